-- Connector positions and the registry of what the indexer has indexed.

-- One row per configured connector instance. The watermark only ever moves
-- after Kafka acknowledged every message of the run that produced it.
CREATE TABLE connector_sync_state (
    connector_id     TEXT PRIMARY KEY,             -- e.g. 'vault:notes'
    kind             TEXT NOT NULL,                -- vault | jira | confluence
    watermark        TIMESTAMPTZ,                  -- newest source change acknowledged by Kafka
    cursor           JSONB NOT NULL DEFAULT '{}',  -- connector-specific resume state
    last_run_started_at  TIMESTAMPTZ,
    last_run_finished_at TIMESTAMPTZ,
    last_run_status  TEXT,                         -- running | succeeded | failed
    last_run_error   TEXT,
    docs_produced    BIGINT NOT NULL DEFAULT 0,    -- cumulative, acknowledged
    last_run_docs    BIGINT NOT NULL DEFAULT 0
);

-- What each connector has published and Kafka acknowledged, item by item:
-- lets a connector skip unchanged items and emit tombstones for vanished ones.
CREATE TABLE connector_items (
    connector_id  TEXT NOT NULL REFERENCES connector_sync_state (connector_id) ON DELETE CASCADE,
    doc_id        TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,                   -- cheap change check (vault: size + mtime)
    content_hash  TEXT NOT NULL,
    deleted       BOOLEAN NOT NULL DEFAULT FALSE,  -- a tombstone was published
    published_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (connector_id, doc_id)
);

-- The indexer's registry: one row per document it has indexed.
CREATE TABLE documents (
    doc_id         TEXT PRIMARY KEY,
    source_kind    TEXT NOT NULL,
    source_instance TEXT NOT NULL,
    title          TEXT NOT NULL DEFAULT '',
    url            TEXT,
    content_hash   TEXT NOT NULL,
    chunk_count    INTEGER NOT NULL,
    deleted        BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at     TIMESTAMPTZ NOT NULL,           -- when the source changed it
    indexed_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    links          JSONB NOT NULL DEFAULT '[]'     -- outgoing links, for the dispatcher
);
CREATE INDEX documents_source_idx ON documents (source_kind, source_instance);
CREATE INDEX documents_indexed_at_idx ON documents (indexed_at);
