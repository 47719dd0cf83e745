use std::process::ExitCode;

use tributary_core::{db, kafka, Config};

use crate::cli::MigrateArgs;

pub async fn run(config: &Config, args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let pool = db::connect(&config.database).await?;
    db::migrate(&pool).await?;
    println!("database migrations applied");
    if !args.skip_kafka {
        let topics = [
            config.kafka.topic.clone(),
            config.kafka.dlq_topic(),
            config.dispatcher.work_items_topic.clone(),
        ];
        kafka::ensure_topics(&config.kafka, &topics).await?;
        println!("kafka topics ready: {}", topics.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}
