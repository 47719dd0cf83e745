//! `tributary dispatch`: communities of the indexed corpus → work items.
//! Exit codes: 0 published or nothing changed, 2 starving, 1 failure.

use std::process::ExitCode;

use tributary_core::Config;
use tributary_dispatcher::run::{CommunityReport, Report, RunResult};
use tributary_dispatcher::work_item::valid_traceparent;
use tributary_dispatcher::{dispatch, DispatchOptions};

use crate::cli::DispatchArgs;

/// Exit code of a starving run: distinct from failure (1) so a CronJob and
/// its alert can tell "nothing to work on" from "broken".
const EXIT_STARVING: u8 = 2;

pub async fn run(config: &Config, args: DispatchArgs) -> anyhow::Result<ExitCode> {
    let pool = super::connect_db(config).await?;
    // The caller's trace context, the W3C way for processes: TRACEPARENT.
    let traceparent = std::env::var("TRACEPARENT")
        .ok()
        .and_then(|v| valid_traceparent(&v));
    let options = DispatchOptions {
        dry_run: args.dry_run,
        all: args.all,
        traceparent,
    };
    let report = dispatch(config, &pool, &options).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    if report.result == RunResult::Starving {
        eprintln!(
            "error: dispatcher is starving: {}",
            report.starving.as_deref().unwrap_or("nothing to work on")
        );
        return Ok(ExitCode::from(EXIT_STARVING));
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &Report) {
    for c in &report.communities {
        println!("{}", community_line(c, report.dry_run));
    }
    if report.links_unresolved > 0 {
        println!(
            "unresolved links: {} (first {} shown)",
            report.links_unresolved,
            report.unresolved_sample.len()
        );
        for u in &report.unresolved_sample {
            println!("  {} --{}--> {}", u.from, u.kind, u.target);
        }
    }
    println!("{}", report.summary);
}

fn community_line(c: &CommunityReport, dry_run: bool) -> String {
    let status = match (c.reason, c.published, dry_run) {
        (None, _, _) => "unchanged".to_string(),
        (Some(reason), _, true) => format!("{} (would publish)", reason.as_str()),
        (Some(reason), true, false) => format!("{} (published)", reason.as_str()),
        (Some(reason), false, false) => format!("{} (NOT published)", reason.as_str()),
    };
    let mut titles = c.titles.join(" | ");
    if c.size > c.titles.len() {
        titles.push_str(&format!(" | +{} more", c.size - c.titles.len()));
    }
    let changes = if c.changed_members > 0 || c.removed_members > 0 {
        format!(
            " [{} changed, {} removed]",
            c.changed_members, c.removed_members
        )
    } else {
        String::new()
    };
    format!(
        "community {} size {:>3} {:<9} {}{changes}: {titles}",
        c.community_id,
        c.size,
        c.grouping.as_str(),
        status
    )
}
