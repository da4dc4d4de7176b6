-- Info alerts without a key are recorded as they arrive (AlertBatcher): they are never said or paged, so the engine
-- has nothing to decide for them. They used to go through its pass only to be marked 'recorded' and indexed for
-- host-and-text dedup; with every message different (a storm of unique texts) that index insert landed on a random
-- page each time and was most of a pass (docs/performance-notes.md). The info e-mail digest groups same texts instead.
-- The host-and-text index now holds only alerts that can be said or paged, so it stays as small as they are.
DROP INDEX alerts_open_by_text;
CREATE INDEX alerts_open_by_text ON alerts(host, message)
    WHERE dedup_key IS NULL AND level <> 'info' AND handled_at IS NOT NULL AND resolved_at IS NULL AND duplicate_of IS NULL;
