-- A storm's counts, kept as each pass announces alerts instead of counted when its line is said (SQLite's migration
-- 015_storm_counts.sql says why).
CREATE TABLE storm_counts (
    storm_id BIGINT NOT NULL REFERENCES storms(id) DEFERRABLE INITIALLY IMMEDIATE,
    grp      TEXT COLLATE "C" NOT NULL,
    host     TEXT COLLATE "C" NOT NULL,
    n        BIGINT NOT NULL,
    PRIMARY KEY (storm_id, grp, host)
);

INSERT INTO storm_counts(storm_id, grp, host, n)
    SELECT s.id, CASE a.disposition WHEN 'announced' THEN 'irc' WHEN 'ack_mode' THEN 'URGENT (ack mode, not paging)' ELSE 'URGENT' END AS grp,
           a.host, COUNT(*)
    FROM storms s JOIN alerts a ON a.id > s.said_through AND a.id <= s.last_alert_id
    WHERE s.ended_at IS NULL AND a.disposition IN ('announced', 'countdown', 'joined', 'ack_mode')
    GROUP BY s.id, grp, a.host;
