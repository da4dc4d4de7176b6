-- alerts_open_by_text as a hash index on the text alone. A B-tree entry must fit in a third of a page (2,704 bytes),
-- and an alert's text may be far longer (stored whole, said cut short): the engine's pass that marked such an alert
-- handled put it in the B-tree on (host, message), failed with "index row requires ... bytes", and was retried every
-- second for ever, so nothing more was said or paged. A hash index keeps a 4-byte hash of any length of text and
-- serves the same lookups (RepeatsModule, ResolveModule: host = ... AND message = ...); the host is checked on the
-- rows it finds. SQLite has no such limit and keeps its (host, message) index (PostgresSchemaTests names the difference).
DROP INDEX alerts_open_by_text;
CREATE INDEX alerts_open_by_text ON alerts USING hash (message)
    WHERE dedup_key IS NULL AND level <> 'info' AND handled_at IS NOT NULL AND resolved_at IS NULL AND duplicate_of IS NULL;
