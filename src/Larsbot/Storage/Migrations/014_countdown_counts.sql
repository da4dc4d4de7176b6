-- A countdown's page text ("db1: disk full (+142546 more from 500 hosts)") and "is every alert in it resolved?" were
-- counted from its alerts each time: COUNT(*) and COUNT(DISTINCT host) over every alert in it, on every 5-second tick,
-- at the first page and the escalation, and a read of every alert in it at every resolve. In a storm a countdown holds
-- hundreds of thousands of alerts: with 142,547, one tick's count took 125-165 ms while the engine held the writer,
-- so intake stood still that long every 5 s, longer as the storm grew (docs/performance-notes.md, fifth session).
-- The engine now keeps the counts on the countdown as it adds alerts to it (AnnounceModule, StillFiring) and resolves
-- them (ResolveModule):
--   alert_count      its alerts (by countdown_id, or reopened into it: countdown_reopens)
--   unresolved_count those of them not resolved yet; 0 stops the countdown
--   host_count       how many different hosts they come from (countdown_hosts holds which)
--   first_alert_id   the lowest id among them: the alert that names the page
ALTER TABLE countdowns ADD COLUMN alert_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE countdowns ADD COLUMN unresolved_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE countdowns ADD COLUMN host_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE countdowns ADD COLUMN first_alert_id INTEGER;

CREATE TABLE countdown_hosts (
    countdown_id INTEGER NOT NULL REFERENCES countdowns(id),
    host         TEXT    NOT NULL,
    PRIMARY KEY (countdown_id, host)
);

-- What the counts were before: derived once from the alerts, as the old queries did.
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
