//! Progress of a long sync: a live counter for people at a terminal, one
//! structured line per page for log pipelines (`"<source> progress"`).

use std::io::{IsTerminal, Write};

use tributary_connectors::SyncProgress;
use tributary_indexer::IndexStats;

/// Copy: the run's progress callback holds its own copy.
#[derive(Clone, Copy)]
pub struct LiveProgress {
    tty: bool,
    /// `jira`, `confluence`: the counter's prefix and the log message's.
    source: &'static str,
    /// What is fetched: `issues`, `pages`.
    items: &'static str,
    /// What a step is: `pages` of results, `requests`.
    steps: &'static str,
}

impl LiveProgress {
    pub fn new(source: &'static str, items: &'static str, steps: &'static str) -> Self {
        LiveProgress {
            tty: std::io::stderr().is_terminal(),
            source,
            items,
            steps,
        }
    }

    /// The connector kind this line counts for (`jira`, `confluence`).
    pub fn source(&self) -> &'static str {
        self.source
    }

    pub fn update(&self, progress: SyncProgress) {
        let SyncProgress {
            fetched,
            published,
            requests: steps,
        } = progress;
        if self.tty {
            eprint!(
                "\r{}: {fetched} {} fetched, {published} published ({steps} {})",
                self.source, self.items, self.steps
            );
            let _ = std::io::stderr().flush();
        } else {
            tracing::info!(
                fetched,
                published,
                steps,
                step = self.steps,
                "{} progress",
                self.source
            );
        }
    }

    /// Ends the live line so what follows starts on its own.
    pub fn finish(&self) {
        if self.tty {
            eprintln!();
        }
    }
}

/// Progress of `tributary index`: a live line on a terminal (documents,
/// chunks/s, lag), one structured `"index progress"` line every 10 s
/// otherwise, so a long `--until-idle` run never looks hung.
pub struct IndexProgress {
    tty: bool,
}

impl IndexProgress {
    pub fn new() -> Self {
        IndexProgress {
            tty: std::io::stderr().is_terminal(),
        }
    }

    /// Follows the indexer's running totals until it stops sending.
    pub async fn follow(self, mut totals: tokio::sync::watch::Receiver<IndexStats>) {
        let started = std::time::Instant::now();
        let every = if self.tty {
            std::time::Duration::from_secs(1)
        } else {
            std::time::Duration::from_secs(10)
        };
        let mut ticker = tokio::time::interval(every);
        ticker.tick().await;
        loop {
            tokio::select! {
                changed = totals.changed() => if changed.is_err() { break },
                _ = ticker.tick() => self.print(&totals.borrow(), started.elapsed()),
            }
        }
        if self.tty {
            self.print(&totals.borrow(), started.elapsed());
            eprintln!();
        }
    }

    fn print(&self, s: &IndexStats, elapsed: std::time::Duration) {
        let secs = elapsed.as_secs_f64().max(0.001);
        let chunks_per_sec = s.docs.chunks as f64 / secs;
        let lag = tributary_indexer::events::total_lag();
        if self.tty {
            eprint!(
                "\rindexing: {} messages, {} documents indexed, {} chunks ({chunks_per_sec:.1} chunks/s), lag {}   ",
                s.messages,
                s.docs.indexed,
                s.docs.chunks,
                lag.map_or("?".to_string(), |l| l.to_string()),
            );
            let _ = std::io::stderr().flush();
        } else {
            tracing::info!(
                messages = s.messages,
                indexed = s.docs.indexed,
                unchanged = s.docs.unchanged,
                deleted = s.docs.deleted,
                chunks = s.docs.chunks,
                chunks_per_sec,
                dead_lettered = s.dead_lettered,
                lag,
                "index progress"
            );
        }
    }
}
