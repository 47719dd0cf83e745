-- Every connector run's outcome, kept so that a failed run does not hide
-- when the connector last succeeded (the `ConnectorRunsStale` alert and
-- `tributary status` read the newest successful run from here). Connector
-- runs are short-lived CronJobs: the long-running indexer exports these
-- rows as gauges, so alerts need no Pushgateway.
CREATE TABLE connector_runs (
    run_id        BIGSERIAL PRIMARY KEY,
    connector_id  TEXT NOT NULL,
    started_at    TIMESTAMPTZ,
    finished_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    status        TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
    published     BIGINT NOT NULL DEFAULT 0,
    error         TEXT,
    -- The run's summary, filled in when the command reports it.
    fetched       BIGINT NOT NULL DEFAULT 0,
    unchanged     BIGINT NOT NULL DEFAULT 0,
    tombstoned    BIGINT NOT NULL DEFAULT 0,
    duration_seconds DOUBLE PRECISION
);
CREATE INDEX connector_runs_connector_idx ON connector_runs (connector_id, finished_at DESC);

-- Runs finished before this table existed.
INSERT INTO connector_runs (connector_id, started_at, finished_at, status, published, error)
SELECT connector_id, last_run_started_at, last_run_finished_at, last_run_status, last_run_docs, last_run_error
FROM connector_sync_state
WHERE last_run_finished_at IS NOT NULL AND last_run_status IN ('succeeded', 'failed');

-- Each running indexer's last word, written every `metrics.outcomes_interval_secs`,
-- so `tributary status` (any process, any pod) can tell a running indexer
-- from a stopped or paused one without reaching its HTTP endpoint.
CREATE TABLE indexer_heartbeats (
    instance         TEXT PRIMARY KEY,             -- group.instance.id, else host:pid
    group_id         TEXT NOT NULL,
    paused_since     TIMESTAMPTZ,                  -- NULL while consuming
    last_indexed_at  TIMESTAMPTZ,
    lag              BIGINT,                       -- messages behind, over its partitions
    stopped_at       TIMESTAMPTZ,                  -- set when it exits (e.g. --until-idle)
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
