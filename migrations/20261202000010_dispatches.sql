-- The dispatcher: its runs, the communities it has dispatched, and what it
-- remembers between runs to resolve links (moved Jira keys).

-- One row per `tributary dispatch` run (not for --dry-run). Shaped for the
-- metrics exporter: the DispatcherStarving alert reads `result`.
CREATE TABLE dispatch_runs (
    run_id              BIGSERIAL PRIMARY KEY,
    started_at          TIMESTAMPTZ NOT NULL,
    finished_at         TIMESTAMPTZ,
    result              TEXT NOT NULL CHECK (result IN ('running','published','unchanged','starving','failed')),
    communities         INTEGER NOT NULL DEFAULT 0,
    changed_communities INTEGER NOT NULL DEFAULT 0,
    work_items          INTEGER NOT NULL DEFAULT 0,
    message             TEXT
);
CREATE INDEX dispatch_runs_started_at_idx ON dispatch_runs (started_at);

-- What a run saw of its inputs, for the next run's "registry stale while the
-- topic grew" check. Kept beside dispatch_runs so that table keeps the shape
-- the exporter expects.
CREATE TABLE dispatch_run_inputs (
    run_id              BIGINT PRIMARY KEY REFERENCES dispatch_runs (run_id) ON DELETE CASCADE,
    documents_topic_messages BIGINT NOT NULL,   -- sum of the documents topic's high watermarks
    registry_indexed_at TIMESTAMPTZ,            -- max(documents.indexed_at); NULL: empty registry
    live_documents      INTEGER NOT NULL,
    links_resolved      INTEGER NOT NULL,
    links_unresolved    INTEGER NOT NULL
);

-- One row per community ever dispatched: its members and their content
-- hashes as of the last work item Kafka acknowledged for it. A row is
-- written only after that acknowledgement.
CREATE TABLE dispatch_communities (
    community_id        TEXT PRIMARY KEY,
    fingerprint         TEXT NOT NULL,
    members             JSONB NOT NULL,          -- {"<doc id>": "<content hash>", ...}
    size                INTEGER NOT NULL,
    first_dispatched_at TIMESTAMPTZ NOT NULL,
    last_dispatched_at  TIMESTAMPTZ NOT NULL,
    last_run_id         BIGINT REFERENCES dispatch_runs (run_id) ON DELETE SET NULL,
    -- Set when a successful run no longer finds the community (every member
    -- deleted or absorbed elsewhere); a retired id is never matched again.
    retired_at          TIMESTAMPTZ
);

-- Jira issue keys seen with their numeric issue id: a link to a key that has
-- since moved (OPS-5 became DEV-9) resolves through the shared issue id.
CREATE TABLE dispatch_jira_keys (
    source_instance TEXT NOT NULL,
    issue_key       TEXT NOT NULL,
    issue_id        TEXT NOT NULL,
    last_seen_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (source_instance, issue_key)
);
CREATE INDEX dispatch_jira_keys_issue_idx ON dispatch_jira_keys (source_instance, issue_id);

-- The document's source metadata (vault aliases, Jira issue id and project,
-- Confluence space key, title and ancestors), for link resolution. Written by
-- the indexer beside `links`; NULL for rows it wrote before it did, and the
-- dispatcher then derives what it can from the id, url and title.
ALTER TABLE documents ADD COLUMN metadata JSONB;
