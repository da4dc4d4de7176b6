-- The engine's high-water mark (Paging/HandledMark.cs): every alert with an id at or below alert_id is handled. It
-- replaces the partial index of unhandled alerts, which every intake commit wrote an entry into and every pass took
-- entries out of: a page each in the WAL, a third of the pages written per alert at one request at a time
-- (docs/performance-notes.md, ninth and tenth sessions). The engine looks for fresh alerts above the mark, on the
-- table's own rowid order. Set here, while that index still answers, to just below the first unhandled alert.
CREATE TABLE handled_mark (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    alert_id INTEGER NOT NULL
);
INSERT INTO handled_mark(id, alert_id) VALUES (1, COALESCE(
    (SELECT MIN(id) FROM alerts WHERE handled_at IS NULL) - 1,
    (SELECT MAX(id) FROM alerts),
    0));
DROP INDEX alerts_unhandled;
