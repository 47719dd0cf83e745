//! The vault as a [`Source`] of the sync driver: walk the folder, render
//! every new or changed note, tombstone the ones gone. The driver does the
//! rest (run lifecycle, recording only what Kafka acknowledged, moving the
//! watermark only if everything was).

use std::collections::HashSet;
use std::path::PathBuf;

use chrono::Utc;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tributary_core::config::KafkaConfig;
use tributary_core::{Document, SourceRef};

use super::document::{note_document, NoteDocument};
use super::rel_path::rel_path_text;
use super::scan::{note_at, scan, Found, ScanError, VaultFile};
use super::skip::{self, SkipReason};
use crate::state::SyncStateStore;
use crate::summary::SyncSummary;
use crate::sync::decision::{self, Precheck};
use crate::sync::{
    self, Batch, Item, RunSpec, Session, SinkChoice, Source, SyncError, WalkContext, WalkEnd,
};

pub const KIND: &str = "vault";

#[derive(Debug, Clone)]
pub struct VaultSyncOptions {
    pub root: PathBuf,
    /// Part of every document id; lets several vaults share one topic.
    pub instance: String,
    /// Report what would be published; publish and record nothing.
    pub dry_run: bool,
    /// Largest document a note becomes, in bytes of JSON; a bigger note's
    /// body is truncated to fit (see `cap`).
    pub max_note_bytes: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum VaultSyncError {
    #[error(transparent)]
    Scan(#[from] ScanError),
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error("blocking task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// The vault's own cursor fields.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct VaultCursor {
    /// Notes found by the last full scan.
    files: u64,
}

/// Runs one sync. On any error the run is recorded as failed and the
/// watermark stays where it was.
pub async fn sync(
    opts: &VaultSyncOptions,
    kafka: &KafkaConfig,
    store: &SyncStateStore,
) -> Result<SyncSummary, VaultSyncError> {
    let mut source = VaultSource::new(opts);
    let spec = source.spec();
    let (summary, _) = sync::run(&mut source, &spec, store, SinkChoice::Kafka(kafka)).await?;
    Ok(summary)
}

/// What one run looks at.
#[derive(Debug, Clone)]
pub enum Scope {
    /// The whole vault: every note read if changed, every vanished one
    /// tombstoned.
    All,
    /// These paths only (absolute, under the canonical root), as named by
    /// file-system notifications: each is read (always: a notification
    /// says it changed, even when size and mtime do not), tombstoned if
    /// gone, or refused as a scan would refuse it.
    Notes(Vec<PathBuf>),
}

pub struct VaultSource<'a> {
    opts: &'a VaultSyncOptions,
    source: SourceRef,
    scope: Scope,
}

impl<'a> VaultSource<'a> {
    pub fn new(opts: &'a VaultSyncOptions) -> Self {
        VaultSource {
            opts,
            source: SourceRef {
                kind: KIND.into(),
                instance: opts.instance.clone(),
            },
            scope: Scope::All,
        }
    }

    pub fn with_scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    pub fn spec(&self) -> RunSpec {
        RunSpec {
            kind: KIND,
            instance: self.opts.instance.clone(),
            dry_run: self.opts.dry_run,
            // Every scan lists every note: deletions are found each run.
            prune: false,
            prune_every: 0,
        }
    }

    pub fn doc_id(&self, rel_path: &str) -> String {
        Document::make_id(KIND, &self.opts.instance, rel_path)
    }

    /// Reads and renders one note found by a walk, unless its size and
    /// mtime say it is the version already acknowledged, and files it.
    async fn note(
        &self,
        session: &mut Session<'_>,
        batch: &mut Batch<()>,
        file: &VaultFile,
        force: bool,
    ) -> Result<(), VaultSyncError> {
        let doc_id = self.doc_id(&file.rel_path);
        let fingerprint = file.fingerprint();
        if session.precheck(&doc_id, &fingerprint, force) == Precheck::Unchanged {
            return Ok(());
        }
        let rendered = match tokio::fs::read(&file.abs_path).await {
            Ok(bytes) => {
                note_document(&self.source, doc_id, file, &bytes, self.opts.max_note_bytes)
                    .map_err(SyncError::from)?
            }
            Err(err) => unreadable(&err),
        };
        file_note(session, batch, file, fingerprint, rendered);
        Ok(())
    }
}

/// A note that could not be read is skipped, like any refused note.
fn unreadable(err: &std::io::Error) -> NoteDocument {
    NoteDocument::Skip(SkipReason::Unreadable {
        error: err.to_string(),
    })
}

/// Files a rendered note: to publish, or skipped with its reason logged
/// (it keeps its last published version: no tombstone).
fn file_note(
    session: &mut Session<'_>,
    batch: &mut Batch<()>,
    file: &VaultFile,
    fingerprint: String,
    rendered: NoteDocument,
) {
    match rendered {
        NoteDocument::Publish(doc) => {
            session.file(batch, Item::new(*doc, fingerprint, ()));
        }
        NoteDocument::Skip(reason) => {
            skip::log(&file.rel_path, &reason);
            session.summary.skipped += 1;
        }
    }
}

/// Notes a full walk reads and renders per blocking task: enough that the
/// hand-off is noise, few enough that every core gets work early.
const RENDER_CHUNK: usize = 128;
/// Rendered notes a full walk holds before publishing them: a bound on its
/// memory, and what lets the next notes be read while Kafka acknowledges
/// these.
const PUBLISH_CHUNK: usize = 2_048;

type RenderedChunks =
    tokio::sync::mpsc::Receiver<Result<Vec<(ToRender, NoteDocument)>, VaultSyncError>>;

/// One note to read and render, with what its filing needs.
struct ToRender {
    file: VaultFile,
    doc_id: String,
    fingerprint: String,
}

/// Reads and renders `notes` on the blocking pool, a few chunks at once (one
/// per core), and sends them on in the walk's order. Stops early when the
/// walk stops listening; the handle says whether it ended by panicking
/// (then the notes it did not send were never published).
fn render_all(
    source: SourceRef,
    max_note_bytes: usize,
    notes: Vec<ToRender>,
) -> (RenderedChunks, tokio::task::JoinHandle<()>) {
    let (tx, rx) = tokio::sync::mpsc::channel(PUBLISH_CHUNK / RENDER_CHUNK);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    // Warnings logged while rendering belong to the run's span.
    let span = tracing::Span::current();
    let mut chunks = Vec::with_capacity(notes.len().div_ceil(RENDER_CHUNK));
    let mut notes = notes.into_iter().peekable();
    while notes.peek().is_some() {
        chunks.push(notes.by_ref().take(RENDER_CHUNK).collect::<Vec<_>>());
    }
    let producer = tokio::spawn(async move {
        let mut rendered = futures::stream::iter(chunks)
            .map(|chunk| {
                let source = source.clone();
                let span = span.clone();
                tokio::task::spawn_blocking(move || {
                    let _entered = span.enter();
                    chunk
                        .into_iter()
                        .map(|note| {
                            let doc = match std::fs::read(&note.file.abs_path) {
                                Ok(bytes) => note_document(
                                    &source,
                                    note.doc_id.clone(),
                                    &note.file,
                                    &bytes,
                                    max_note_bytes,
                                )
                                .map_err(|e| VaultSyncError::Sync(e.into()))?,
                                Err(err) => unreadable(&err),
                            };
                            Ok((note, doc))
                        })
                        .collect::<Result<Vec<_>, VaultSyncError>>()
                })
            })
            .buffered(cores);
        while let Some(done) = rendered.next().await {
            let done = done.map_err(VaultSyncError::from).and_then(|chunk| chunk);
            let failed = done.is_err();
            if tx.send(done).await.is_err() || failed {
                return;
            }
        }
    });
    (rx, producer)
}

impl VaultSource<'_> {
    /// The whole vault. Notes are read and rendered on every core while
    /// the ones before them are published, [`PUBLISH_CHUNK`] at a time;
    /// each publish records only what Kafka acknowledged, and any failure
    /// ends the walk (so the run fails and the watermark stays).
    async fn walk_all(
        &self,
        session: &mut Session<'_>,
        ctx: &mut WalkContext<VaultCursor>,
    ) -> Result<Vec<Item<()>>, VaultSyncError> {
        let root = self.opts.root.clone();
        let scanned = tokio::task::spawn_blocking(move || scan(&root)).await??;
        session.summary.scanned = scanned.files.len() as u64;
        session.summary.skipped = scanned.skipped.len() as u64;
        ctx.cursor.files = scanned.files.len() as u64;
        let mut seen = HashSet::with_capacity(scanned.files.len());
        let mut to_render = Vec::new();
        for file in scanned.files {
            let doc_id = self.doc_id(&file.rel_path);
            seen.insert(doc_id.clone());
            let fingerprint = file.fingerprint();
            if session.precheck(&doc_id, &fingerprint, false) == Precheck::Render {
                to_render.push(ToRender {
                    file,
                    doc_id,
                    fingerprint,
                });
            }
        }
        let mut acked = Vec::new();
        let mut batch = Batch::default();
        let (mut rendered, producer) =
            render_all(self.source.clone(), self.opts.max_note_bytes, to_render);
        while let Some(chunk) = rendered.recv().await {
            for (note, doc) in chunk? {
                file_note(session, &mut batch, &note.file, note.fingerprint, doc);
            }
            if batch.publish.len() >= PUBLISH_CHUNK {
                acked.extend(session.publish(std::mem::take(&mut batch)).await?);
            }
        }
        // Every note was sent unless the renderer panicked: then fail, not
        // report a vault with notes missing as synced.
        producer.await?;
        // A deleted note, or one the walk no longer accepts (a symlink now).
        let now = Utc::now();
        for id in decision::vanished(&session.previous, |id| seen.contains(id)) {
            batch
                .publish
                .push(Item::tombstone(id, self.source.clone(), now, ()));
        }
        acked.extend(session.publish(batch).await?);
        Ok(acked)
    }

    /// The named paths only; `None` when one of them needs the whole vault
    /// to be judged (see [`note_at`]).
    async fn walk_notes(
        &self,
        session: &mut Session<'_>,
        paths: &[PathBuf],
    ) -> Result<Option<Vec<Item<()>>>, VaultSyncError> {
        let root_error = |source| ScanError::Root {
            path: self.opts.root.clone(),
            source,
        };
        let root = self.opts.root.canonicalize().map_err(root_error)?;
        let mut found = Vec::with_capacity(paths.len());
        for path in paths {
            let Some(entry) = note_at(&root, path) else {
                return Ok(None);
            };
            found.push(entry);
        }
        let mut batch = Batch::default();
        let now = Utc::now();
        for entry in found {
            let gone = match entry {
                Found::Note(file) => {
                    session.summary.scanned += 1;
                    self.note(session, &mut batch, &file, true).await?;
                    continue;
                }
                Found::Other => continue,
                // Refused now (a symlink, a FIFO): gone from the vault, as
                // a scan would see it.
                Found::Refused(skipped) => {
                    session.summary.skipped += 1;
                    skipped.path
                }
                Found::Missing(rel_path) => rel_path,
            };
            let id = self.doc_id(&gone);
            if decision::needs_tombstone(session.previous.get(&id)) {
                batch
                    .publish
                    .push(Item::tombstone(id, self.source.clone(), now, ()));
            }
        }
        // A vault that vanished makes every note look deleted: no
        // tombstone then (checked after the notes were looked at).
        if batch.publish.iter().any(|i| i.doc.deleted) {
            std::fs::metadata(&root).map_err(root_error)?;
        }
        Ok(Some(session.publish(batch).await?))
    }
}

impl Source for VaultSource<'_> {
    type Cursor = VaultCursor;
    type Error = VaultSyncError;

    fn only_items(&self) -> Option<Vec<String>> {
        match &self.scope {
            Scope::All => None,
            Scope::Notes(paths) => {
                let root = self.opts.root.canonicalize().ok()?;
                let ids = paths
                    .iter()
                    .map(|p| {
                        let rel = p.strip_prefix(&root).ok()?;
                        let (text, encoded) = rel_path_text(rel);
                        (!encoded).then(|| self.doc_id(&text))
                    })
                    .collect::<Option<Vec<String>>>()?;
                Some(ids)
            }
        }
    }

    async fn walk(
        &mut self,
        session: &mut Session<'_>,
        ctx: &mut WalkContext<VaultCursor>,
    ) -> Result<WalkEnd, VaultSyncError> {
        let acked = match &self.scope {
            Scope::All => self.walk_all(session, ctx).await?,
            Scope::Notes(paths) => match self.walk_notes(session, paths).await? {
                Some(acked) => acked,
                // `only_items` said so too: every item is loaded.
                None => self.walk_all(session, ctx).await?,
            },
        };
        Ok(WalkEnd {
            watermark: acked.iter().map(|i| i.doc.updated_at).max(),
            // A full walk looks for deletions every time.
            pruned: matches!(self.scope, Scope::All),
            partial_failure: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::state::ItemState;
    use crate::sync::{MemoryLog, MemorySink};

    struct Walked {
        /// (id, deleted) of every acknowledged message, in order.
        sent: Vec<(String, bool)>,
        summary: SyncSummary,
        previous: HashMap<String, ItemState>,
    }

    /// One walk of `scope` through a session over memory: what a run would
    /// publish and record, without Kafka or PostgreSQL.
    async fn walk(
        opts: &VaultSyncOptions,
        scope: Scope,
        previous: HashMap<String, ItemState>,
    ) -> Walked {
        let sink = MemorySink::new();
        let log = MemoryLog::new();
        let summary = SyncSummary {
            connector_id: "vault:t".into(),
            ..SyncSummary::default()
        };
        let mut session = Session::new(summary, previous, Some(&sink), &log);
        let mut ctx = WalkContext {
            cursor: VaultCursor::default(),
            watermark: None,
            prune_due: false,
        };
        let mut source = VaultSource::new(opts).with_scope(scope);
        source.walk(&mut session, &mut ctx).await.expect("walk");
        let recorded: Vec<String> = log.recorded().into_iter().map(|r| r.doc_id).collect();
        let sent: Vec<(String, bool)> = sink
            .acknowledged()
            .into_iter()
            .map(|d| (d.id, d.deleted))
            .collect();
        // Every message is recorded; touched items are recorded too.
        assert!(sent.iter().all(|(id, _)| recorded.contains(id)));
        Walked {
            sent,
            summary: session.summary,
            previous: session.previous,
        }
    }

    fn id(rel: &str) -> (String, bool) {
        (format!("vault:t:{rel}"), false)
    }

    fn gone(rel: &str) -> (String, bool) {
        (format!("vault:t:{rel}"), true)
    }

    #[tokio::test]
    async fn scans_and_watched_paths_publish_changes_and_tombstones_without_kafka() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let opts = VaultSyncOptions {
            root: root.clone(),
            instance: "t".into(),
            dry_run: false,
            max_note_bytes: 900_000,
        };
        std::fs::write(root.join("a.md"), "alpha").unwrap();
        std::fs::write(root.join("b.md"), "beta").unwrap();
        let first = walk(&opts, Scope::All, HashMap::new()).await;
        assert_eq!(first.sent, [id("a.md"), id("b.md")]);

        // A second scan: nothing changed, nothing sent.
        let again = walk(&opts, Scope::All, first.previous).await;
        assert!(again.sent.is_empty());
        assert_eq!(again.summary.unchanged, 2);

        // Edited and deleted: the edit and a tombstone.
        std::fs::write(root.join("a.md"), "alpha, edited").unwrap();
        std::fs::remove_file(root.join("b.md")).unwrap();
        let changed = walk(&opts, Scope::All, again.previous).await;
        assert_eq!(changed.sent, [id("a.md"), gone("b.md")]);
        assert_eq!(changed.summary.tombstones, 1);

        // Watched paths: a new note, a deleted one, one already gone.
        std::fs::write(root.join("c.md"), "gamma").unwrap();
        std::fs::remove_file(root.join("a.md")).unwrap();
        let paths = ["c.md", "a.md", "b.md"].map(|n| root.join(n)).to_vec();
        let watched = walk(&opts, Scope::Notes(paths), changed.previous).await;
        assert_eq!(watched.sent, [id("c.md"), gone("a.md")]);

        // Rewritten with the same text: recorded (touched), not sent.
        std::fs::write(root.join("c.md"), "gamma").unwrap();
        let touched = walk(
            &opts,
            Scope::Notes(vec![root.join("c.md")]),
            watched.previous,
        )
        .await;
        assert!(touched.sent.is_empty());
        assert_eq!(
            (touched.summary.unchanged, touched.summary.published),
            (1, 0)
        );
    }
}
