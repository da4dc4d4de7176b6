-- Voice calls (issue 6): the everyone-page also rings people with "call": true, through the same outbox, so a call
-- is retried, purged by an ack and counted like any page. SQLite cannot widen a CHECK in place, so pages is rebuilt
-- with 'call' allowed. page_attempts refers to pages: foreign keys are deferred to the commit, by which time every
-- page row is back with its id.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE pages_before_004 AS SELECT * FROM pages;
DROP TABLE pages;

CREATE TABLE pages (
    id              INTEGER PRIMARY KEY,
    countdown_id    INTEGER NOT NULL REFERENCES countdowns(id),
    stage           TEXT    NOT NULL CHECK (stage IN ('first', 'everyone')),
    person_id       TEXT    NOT NULL,
    channel         TEXT    NOT NULL CHECK (channel IN ('sms', 'push', 'call')),
    destination     TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('due', 'sending', 'sent', 'failed', 'purged')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    sent_at         INTEGER,
    provider_id     TEXT,
    UNIQUE (countdown_id, stage, person_id, channel)
);
INSERT INTO pages (id, countdown_id, stage, person_id, channel, destination, title, body, created_at, state, attempts,
                   next_attempt_at, sent_at, provider_id)
SELECT id, countdown_id, stage, person_id, channel, destination, title, body, created_at, state, attempts,
       next_attempt_at, sent_at, provider_id
FROM pages_before_004;
DROP TABLE pages_before_004;
CREATE INDEX pages_due ON pages(next_attempt_at) WHERE state = 'due';
