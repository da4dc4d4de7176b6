-- The engine keeps the open keyed originals by key in memory (Paging/OpenKeys.cs) instead of in an index on dedup_key:
-- keys are fingerprints, so every new alert the engine handled put an entry on a random page of that index, a page in
-- the WAL and later in the file (docs/performance-notes.md, the thirteenth session). What stays is the same set of
-- alerts by id: entries are appended in id order as the engine handles them. The engine loads its keys from it at
-- start, and the open-alert count (/metrics) and the still-firing check after ack mode read it.
DROP INDEX alerts_open_by_key;
CREATE INDEX alerts_open_keyed ON alerts(id)
    WHERE dedup_key IS NOT NULL AND handled_at IS NOT NULL AND resolved_at IS NULL AND duplicate_of IS NULL;
