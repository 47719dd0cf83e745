//! Progress of a long sync: a live counter for people at a terminal, one
//! structured line per page for log pipelines (`"<source> progress"`).

use std::io::{IsTerminal, Write};

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

    pub fn update(&self, fetched: u64, published: u64, steps: u64) {
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
