-- A storm's grouped line ("irc 8,214 alerts from 500 hosts: ...") was counted when it was said, every 2 s
-- (Paging:StormFlushEvery): a GROUP BY over every alert announced since the last line, while the engine held the
-- writer. At 4,000 alerts a second that held intake 5-20 ms every 2 s, and the stall grew with the rate; it was most
-- of the engine path's p99 at one request at a time (docs/performance-notes.md, fifth session). Each pass now adds
-- its own announced alerts to the storm's counts (one statement over the alerts it just handled), and the line reads
-- the counts: at most a row per host and kind.
CREATE TABLE storm_counts (
    storm_id INTEGER NOT NULL REFERENCES storms(id),
    grp      TEXT    NOT NULL,   -- 'irc', 'URGENT' or 'URGENT (ack mode, not paging)': one line each
    host     TEXT    NOT NULL,
    n        INTEGER NOT NULL,   -- its alerts announced since the storm's last line
    PRIMARY KEY (storm_id, grp, host)
);

-- What an open storm has counted so far, as its next line would have counted it.
INSERT INTO storm_counts(storm_id, grp, host, n)
    SELECT s.id, CASE a.disposition WHEN 'announced' THEN 'irc' WHEN 'ack_mode' THEN 'URGENT (ack mode, not paging)' ELSE 'URGENT' END AS grp,
           a.host, COUNT(*)
    FROM storms s JOIN alerts a ON a.id > s.said_through AND a.id <= s.last_alert_id
    WHERE s.ended_at IS NULL AND a.disposition IN ('announced', 'countdown', 'joined', 'ack_mode')
    GROUP BY s.id, grp, a.host;
