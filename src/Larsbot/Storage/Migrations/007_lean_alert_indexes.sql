-- Intake speed: an alert's INSERT used to add an entry to four indexes besides the table, and at one request at a
-- time each index cost about as much as the row (benchmarks in docs/benchmarks.md). Now an INSERT touches only the
-- table and the small index of unhandled alerts:
--  * the countdown index holds only alerts that are in a countdown (queries ask for one countdown's alerts, which
--    implies NOT NULL, so SQLite still uses it);
--  * the dedup indexes hold only alerts the engine has handled. The engine fills them in its own (batched) pass, and
--    looks for repeats within the batch it is handling in memory (PagingEngine.Dedup.cs).
DROP INDEX alerts_countdown;
CREATE INDEX alerts_countdown ON alerts(countdown_id) WHERE countdown_id IS NOT NULL;
DROP INDEX alerts_open_by_key;
CREATE INDEX alerts_open_by_key ON alerts(dedup_key)
    WHERE dedup_key IS NOT NULL AND handled_at IS NOT NULL AND resolved_at IS NULL AND duplicate_of IS NULL;
DROP INDEX alerts_open_by_text;
CREATE INDEX alerts_open_by_text ON alerts(host, message)
    WHERE dedup_key IS NULL AND handled_at IS NOT NULL AND resolved_at IS NULL AND duplicate_of IS NULL;
