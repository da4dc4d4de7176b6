-- A countdown's counts, kept on it as the engine adds and resolves its alerts, instead of counted from them on every
-- tick, page and resolve (SQLite's migration 014_countdown_counts.sql says why and what each column holds).
ALTER TABLE countdowns ADD COLUMN alert_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE countdowns ADD COLUMN unresolved_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE countdowns ADD COLUMN host_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE countdowns ADD COLUMN first_alert_id BIGINT;

CREATE TABLE countdown_hosts (
    countdown_id BIGINT NOT NULL REFERENCES countdowns(id) DEFERRABLE INITIALLY IMMEDIATE,
    host         TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (countdown_id, host)
);

INSERT INTO countdown_hosts(countdown_id, host)
    SELECT countdown_id, host FROM alerts WHERE countdown_id IS NOT NULL
    UNION SELECT r.countdown_id, a.host FROM countdown_reopens r JOIN alerts a ON a.id = r.alert_id;
UPDATE countdowns SET
    alert_count = (SELECT COUNT(*) FROM alerts a WHERE a.countdown_id = countdowns.id
                 OR a.id IN (SELECT r.alert_id FROM countdown_reopens r WHERE r.countdown_id = countdowns.id)),
    unresolved_count = (SELECT COUNT(*) FROM alerts a WHERE a.resolved_at IS NULL AND (a.countdown_id = countdowns.id
                 OR a.id IN (SELECT r.alert_id FROM countdown_reopens r WHERE r.countdown_id = countdowns.id))),
    host_count = (SELECT COUNT(*) FROM countdown_hosts h WHERE h.countdown_id = countdowns.id),
    first_alert_id = (SELECT MIN(a.id) FROM alerts a WHERE a.countdown_id = countdowns.id
                 OR a.id IN (SELECT r.alert_id FROM countdown_reopens r WHERE r.countdown_id = countdowns.id));
