-- Silences (issue 6): `lars shush <host or glob> <duration> [reason]`. Matching alerts are stored and shown but
-- never page. A row, not a timer: a silence survives a restart and ends on the clock the bot is given.
CREATE TABLE silences (
    id         INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    pattern    TEXT    NOT NULL,   -- a host name or a * / ? pattern, matched case-insensitively
    reason     TEXT,
    person_id  TEXT    NOT NULL,
    nick       TEXT    NOT NULL,
    ended_at   INTEGER,            -- set by `lars unshush`
    ended_by   TEXT
);
CREATE INDEX silences_active ON silences(ends_at) WHERE ended_at IS NULL;
