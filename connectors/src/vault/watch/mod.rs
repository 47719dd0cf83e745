//! `tributary sync vault --watch`: the vault kept in sync as it is edited.
//!
//! A debounced file-system watcher (`notify`) names the notes that changed;
//! each batch is one run of the same sync driver and the same note
//! rendering as a scan, limited to those notes (`plan` decides which, or
//! asks for a full rescan when a folder moved). A full rescan also runs
//! every `rescan_every`, catching what notifications miss (editors that
//! replace files, events dropped under load). One producer serves every
//! run, so an edit costs a debounce, a few queries and one acknowledged
//! message.
//!
//! The vault folder moving away or being unmounted is an error that is
//! logged, and the watch keeps looking for it (nothing is tombstoned while
//! it is gone); when the same folder is back, a full rescan catches up. If
//! a different folder or filesystem appears at the path (an empty mount
//! point), the watch stops with an error rather than tombstone every note.

mod plan;
mod root;

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify_debouncer_full::notify::event::{EventKind, ModifyKind};
use notify_debouncer_full::notify::{self, RecursiveMode};
use notify_debouncer_full::{new_debouncer, DebounceEventResult, DebouncedEvent};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tributary_core::config::KafkaConfig;

use plan::{FsEvent, FsEventKind, Plan};
use root::{RootId, RootState};

use super::connector::{Scope, VaultSource, VaultSyncError, VaultSyncOptions, KIND};
use crate::publish::{PublishError, Publisher};
use crate::state::SyncStateStore;
use crate::summary::SyncSummary;
use crate::sync::{self, SinkChoice};

/// How often a vault that is gone is looked for.
const ROOT_POLL: Duration = Duration::from_secs(1);
/// Longest wait before a failed run is retried (as a full rescan).
const MAX_RETRY: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub sync: VaultSyncOptions,
    /// Quiet time per file before its events are handled.
    pub debounce: Duration,
    /// Full rescan period.
    pub rescan_every: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("vault path {path} is not a readable directory: {source}")]
    Root {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the vault root {0} was replaced or unmounted: another folder or filesystem is there now. \
         Stopping rather than tombstone every note; restart the watch to sync what is there now"
    )]
    RootReplaced(PathBuf),
    #[error("cannot watch {path} for changes: {source}")]
    Watch {
        path: PathBuf,
        source: notify::Error,
    },
    #[error(transparent)]
    Publish(#[from] PublishError),
}

/// Watches until `shutdown` is cancelled (then returns `Ok` after the run in
/// progress finishes). `on_run` sees every run's summary.
pub async fn watch(
    opts: &WatchOptions,
    kafka: &KafkaConfig,
    store: &SyncStateStore,
    shutdown: CancellationToken,
    on_run: &(dyn Fn(&SyncSummary) + Send + Sync),
) -> Result<(), WatchError> {
    let root_error = |source| WatchError::Root {
        path: opts.sync.root.clone(),
        source,
    };
    let root = opts.sync.root.canonicalize().map_err(root_error)?;
    let identity = RootId::of(&root).map_err(root_error)?;
    // One producer for every run; a dead broker fails here, at start.
    let publisher = Publisher::connect(kafka)?;
    let runner = Runner {
        opts: &opts.sync,
        store,
        publisher: &publisher,
        on_run,
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    // Watch before the first scan: an edit during the scan is not lost.
    let mut watcher = Some(start_watcher(&root, opts.debounce, tx.clone())?);
    tracing::info!(
        root = %root.display(),
        debounce_ms = opts.debounce.as_millis() as u64,
        rescan_secs = opts.rescan_every.as_secs(),
        "watching the vault"
    );
    let mut retry = Retry::default();
    if !runner.run(Scope::All).await {
        retry.failed();
    }
    let mut next_rescan = Instant::now() + opts.rescan_every;
    let mut gone = false;
    loop {
        let wake = if gone {
            Instant::now() + ROOT_POLL
        } else {
            retry.at.map_or(next_rescan, |at| at.min(next_rescan))
        };
        let mut plan = Plan::default();
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            received = rx.recv() => {
                let Some(first) = received else { break };
                // Everything already delivered joins this batch.
                let mut results = vec![first];
                while let Ok(more) = rx.try_recv() {
                    results.push(more);
                }
                plan = plan_batch(&root, results);
            }
            _ = tokio::time::sleep_until(wake) => plan.rescan = true,
        }
        match identity.check(&root) {
            RootState::Same => {}
            RootState::Gone(err) => {
                if !gone {
                    tracing::error!(
                        root = %root.display(),
                        error = %err,
                        "the vault folder is gone (moved or unmounted); nothing is published or tombstoned until it is back"
                    );
                    gone = true;
                    watcher = None;
                    // `tributary status` shows the connector failing, with why.
                    let message = format!(
                        "the vault folder {} is gone (moved or unmounted): {err}; waiting for it to come back",
                        root.display()
                    );
                    runner.record_failure(&message).await;
                }
                continue;
            }
            RootState::Replaced => return Err(WatchError::RootReplaced(root)),
        }
        if gone {
            tracing::info!(root = %root.display(), "the vault folder is back; rescanning");
            gone = false;
            // The old watches died with the folder's disappearance.
            watcher = Some(start_watcher(&root, opts.debounce, tx.clone())?);
            plan.rescan = true;
        }
        if plan.root_changed {
            plan.rescan = true;
        }
        let scope = if plan.rescan || retry.at.is_some_and(|at| at <= Instant::now()) {
            next_rescan = Instant::now() + opts.rescan_every;
            Scope::All
        } else if plan.notes.is_empty() {
            continue;
        } else {
            Scope::Notes(plan.notes.into_iter().collect())
        };
        if runner.run(scope).await {
            retry = Retry::default();
        } else {
            retry.failed();
        }
    }
    drop(watcher);
    tracing::info!(root = %root.display(), "stopped watching the vault");
    Ok(())
}

/// When to retry after failed runs: a full rescan, 1 s after the first
/// failure, doubling up to [`MAX_RETRY`].
#[derive(Debug, Default)]
struct Retry {
    at: Option<Instant>,
    delay: Option<Duration>,
}

impl Retry {
    fn failed(&mut self) {
        let delay = self
            .delay
            .map_or(Duration::from_secs(1), |d| (d * 2).min(MAX_RETRY));
        self.delay = Some(delay);
        self.at = Some(Instant::now() + delay);
    }
}

struct Runner<'a> {
    opts: &'a VaultSyncOptions,
    store: &'a SyncStateStore,
    publisher: &'a Publisher,
    on_run: &'a (dyn Fn(&SyncSummary) + Send + Sync),
}

impl Runner<'_> {
    /// Records a failed run that did not get as far as the driver.
    async fn record_failure(&self, message: &str) {
        let id = VaultSource::new(self.opts).spec().connector_id();
        let recorded = match self.store.begin_run(&id, KIND).await {
            Ok(_) => self.store.fail_run(&id, message, 0).await,
            Err(err) => Err(err),
        };
        if let Err(err) = recorded {
            tracing::warn!(error = %err, "cannot record the failed run in PostgreSQL");
        }
    }

    /// One driver run over `scope`; false when it failed (logged here; the
    /// driver recorded it and kept the watermark), for the caller to retry.
    async fn run(&self, scope: Scope) -> bool {
        let full = matches!(scope, Scope::All);
        let mut source = VaultSource::new(self.opts).with_scope(scope);
        let spec = source.spec();
        let sink = SinkChoice::Given(self.publisher);
        let result: Result<SyncSummary, VaultSyncError> =
            sync::run(&mut source, &spec, self.store, sink)
                .await
                .map(|(summary, _)| summary);
        match result {
            Ok(summary) => {
                if let Err(err) = self.store.record_run_summary(&summary).await {
                    tracing::warn!(error = %err, "cannot record the run's summary in connector_runs");
                }
                tracing::info_span!("watch_pass", full)
                    .in_scope(|| summary.log_finished("watch sync", None));
                (self.on_run)(&summary);
                true
            }
            Err(err) => {
                tracing::error!(error = %err, full, "watch sync failed; retrying with a full rescan");
                false
            }
        }
    }
}

fn start_watcher(
    root: &Path,
    debounce: Duration,
    tx: mpsc::UnboundedSender<DebounceEventResult>,
) -> Result<
    notify_debouncer_full::Debouncer<
        notify::RecommendedWatcher,
        notify_debouncer_full::RecommendedCache,
    >,
    WatchError,
> {
    let watch_error = |source| WatchError::Watch {
        path: root.to_path_buf(),
        source,
    };
    // The receiver lives as long as the watch loop; a send after it is gone
    // has nowhere to go and nothing to do.
    let mut debouncer = new_debouncer(debounce, None, move |result: DebounceEventResult| {
        let _ = tx.send(result);
    })
    .map_err(watch_error)?;
    debouncer
        .watch(root, RecursiveMode::Recursive)
        .map_err(watch_error)?;
    Ok(debouncer)
}

/// The plan for everything delivered so far; watcher errors ask for a
/// rescan (an event may have been lost with them).
fn plan_batch(root: &Path, results: Vec<DebounceEventResult>) -> Plan {
    let mut events = Vec::new();
    let mut lost = false;
    for result in results {
        match result {
            Ok(batch) => events.extend(batch.iter().map(fs_event)),
            Err(errors) => {
                for error in errors {
                    tracing::warn!(error = %error, "file watcher error; rescanning");
                }
                lost = true;
            }
        }
    }
    let mut plan = plan::plan(root, &events, Path::is_dir);
    plan.rescan |= lost;
    plan
}

fn fs_event(event: &DebouncedEvent) -> FsEvent {
    let kind = if event.need_rescan() {
        FsEventKind::Rescan
    } else {
        match event.kind {
            EventKind::Create(_) => FsEventKind::Create,
            EventKind::Modify(ModifyKind::Name(_)) => FsEventKind::Rename,
            EventKind::Modify(_) => FsEventKind::Modify,
            EventKind::Remove(_) => FsEventKind::Remove,
            // `Any` is what a backend says when it cannot tell: look again.
            EventKind::Any => FsEventKind::Modify,
            EventKind::Access(_) | EventKind::Other => FsEventKind::Other,
        }
    };
    FsEvent {
        kind,
        paths: event.paths.clone(),
    }
}
