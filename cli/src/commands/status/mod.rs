//! `tributary status`: the operator's one screen. Whether work is getting
//! done, not just whether things are up: one verdict per component and an
//! exit code scripts can use (0 healthy, 1 degraded, 2 failing).

mod gather;
mod verdict;

use std::process::ExitCode;

use serde::Serialize;
use tributary_core::Config;

use crate::cli::StatusArgs;
use verdict::{judge, overall, Facts, Line, Verdict};

#[derive(Serialize)]
struct Report<'a> {
    verdict: Verdict,
    exit_code: u8,
    lines: &'a [Line],
    facts: &'a Facts,
}

pub async fn run(config: &Config, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let facts = gather::facts(config).await;
    let lines = judge(&facts, &config.status);
    let verdict = overall(&lines);
    if args.json {
        let report = Report {
            verdict,
            exit_code: verdict.exit_code(),
            lines: &lines,
            facts: &facts,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let width = lines.iter().map(|l| l.component.len()).max().unwrap_or(0);
        for l in &lines {
            println!(
                "{:<width$}  {:<8}  {}",
                l.component,
                l.verdict.word(),
                l.detail
            );
        }
        println!("status: {}", verdict.word());
    }
    Ok(ExitCode::from(verdict.exit_code()))
}
