-- Dead letters that `tributary dlq redrive` has re-published (and Kafka
-- acknowledged). The redrive consumer group commits only the contiguous
-- prefix of handled messages per partition, so messages a filter left in
-- place stay pending; this table remembers the handled ones beyond that
-- prefix, so a later run never replays them again.
CREATE TABLE dlq_resolved (
    dlq_topic     TEXT NOT NULL,
    dlq_partition INTEGER NOT NULL,
    dlq_offset    BIGINT NOT NULL,
    action        TEXT NOT NULL,                 -- redriven
    redrive_count INTEGER NOT NULL,
    resolved_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (dlq_topic, dlq_partition, dlq_offset)
);
