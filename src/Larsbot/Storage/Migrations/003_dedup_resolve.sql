-- Dedup, resolve and stale acks (issue 6). Columns are added, never changed, so older rows keep their meaning.

-- A caller's identity for "the same problem": POST /alerts `key`, Alertmanager's fingerprint, PagerDuty's dedup_key.
-- NULL = unkeyed: then the same host and text within Paging:DedupWindow counts as a repeat.
ALTER TABLE alerts ADD COLUMN dedup_key TEXT;
-- A repeat is stored as its own row (nothing accepted is dropped) pointing at the open original, which counts up.
ALTER TABLE alerts ADD COLUMN duplicate_of INTEGER REFERENCES alerts(id);
ALTER TABLE alerts ADD COLUMN repeats INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN last_seen_at INTEGER;
ALTER TABLE alerts ADD COLUMN resolved_at INTEGER;
CREATE INDEX alerts_open_by_key ON alerts(dedup_key) WHERE resolved_at IS NULL AND duplicate_of IS NULL;
CREATE INDEX alerts_open_by_text ON alerts(host, message) WHERE resolved_at IS NULL AND duplicate_of IS NULL;

-- Resolves and tool acknowledgements, stored before the answer like alerts and handled by the engine's next pass.
-- A separate table because they are not alerts: they never page, and counting them as alerts would skew reports.
CREATE TABLE alert_events (
    id          INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,
    source      TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('resolve', 'acknowledge')),
    dedup_key   TEXT,
    host        TEXT,
    message     TEXT,
    handled_at  INTEGER,
    matched     INTEGER   -- how many open alerts it applied to
);
CREATE INDEX alert_events_unhandled ON alert_events(id) WHERE handled_at IS NULL;

-- A resolve that empties a countdown closes it. countdowns.state cannot be widened without rebuilding the table
-- (its CHECK), so a resolved countdown is state 'acked' with ack_id NULL and resolved_at set: every query that
-- looks for open countdowns already treats 'acked' as closed, and the outbox stops retrying its pages.
ALTER TABLE countdowns ADD COLUMN resolved_at INTEGER;

-- Stale acks: when ack mode ends and keyed urgent alerts it covered are still open, they join a fresh countdown.
-- alerts.countdown_id keeps the first countdown (the ledger and incident reports key on it); later ones are here.
CREATE TABLE countdown_reopens (
    countdown_id INTEGER NOT NULL REFERENCES countdowns(id),
    alert_id     INTEGER NOT NULL REFERENCES alerts(id),
    PRIMARY KEY (countdown_id, alert_id)
);
CREATE INDEX countdown_reopens_alert ON countdown_reopens(alert_id);
