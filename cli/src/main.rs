//! `tributary`: one binary, one image, every job (see `tributary --help`).

mod cli;
mod commands;
mod report;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    // Held to the end: dropping it flushes buffered spans.
    let _telemetry = tributary_core::telemetry::init(cli.log_format.into());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(err) => {
            let message = report::error_chain(&err);
            tracing::error!(error = %message, "command failed");
            eprintln!("error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
