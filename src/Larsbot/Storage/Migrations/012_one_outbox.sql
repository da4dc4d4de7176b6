-- One outbox for every output (issue 14). Channel lines and topic changes were side effects held in memory: a line
-- decided just before a crash was never said. Now they are rows of one table, outbox, drained by the same sender as
-- SMS, pushes and calls (the table pages was until now), through an IRC notifier:
--   channel 'irc', person_id NULL, stage 'line' (most lines), 'tick' (a countdown's "in 20 secs" line, which carries
--   its countdown and is purged with it), or 'topic' (the topic the channel should carry; a newer one supersedes it).
--   title says how it goes: 'paging' (ahead of chatter), 'chatter' (command replies, reminders) or 'topic'.
--   expires_at: a line not said by then is dropped, not said late (a countdown tick after a restart).
-- The info digest is a row too: channel 'email', stage 'digest', destination the recipients, title the subject.
-- cancelled_at: set on a page that was on the wire when its countdown was acked or resolved, so the sender neither
-- retries it nor resends it after a crash, and cancels its emergency receipt; the outbox no longer reads countdowns.
-- chat_outages: when IRC was unreachable, so "nobody can ack: page at once" and "back on IRC after ..." are derived
-- from rows and survive a restart.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE pages_before_012 AS SELECT * FROM pages;
DROP TABLE pages;

CREATE TABLE pages (
    id              INTEGER PRIMARY KEY,
    countdown_id    INTEGER REFERENCES countdowns(id),
    stage           TEXT    NOT NULL CHECK (stage IN ('first', 'everyone', 'followup', 'line', 'tick', 'topic', 'digest')),
    person_id       TEXT,
    channel         TEXT    NOT NULL CHECK (channel IN ('sms', 'push', 'call', 'irc', 'email')),
    destination     TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('due', 'sending', 'sent', 'failed', 'purged')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    sent_at         INTEGER,
    provider_id     TEXT,
    receipt         TEXT,
    delivery_state  TEXT,
    delivery_error  TEXT,
    delivery_at     INTEGER,
    expires_at      INTEGER,
    cancelled_at    INTEGER,
    CHECK ((channel IN ('irc', 'email')) = (person_id IS NULL)),
    UNIQUE (countdown_id, stage, person_id, channel)
);
INSERT INTO pages (id, countdown_id, stage, person_id, channel, destination, title, body, created_at, state, attempts,
                   next_attempt_at, sent_at, provider_id, receipt, delivery_state, delivery_error, delivery_at)
SELECT id, countdown_id, stage, person_id, channel, destination, title, body, created_at, state, attempts,
       next_attempt_at, sent_at, provider_id, receipt, delivery_state, delivery_error, delivery_at
FROM pages_before_012;
DROP TABLE pages_before_012;
CREATE INDEX pages_due ON pages(next_attempt_at) WHERE state = 'due';
CREATE INDEX pages_due_by_channel ON pages(channel, id) WHERE state = 'due';
CREATE INDEX pages_by_provider_id ON pages(provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX pages_of_countdown ON pages(countdown_id) WHERE countdown_id IS NOT NULL;
CREATE INDEX pages_topics ON pages(id) WHERE stage = 'topic';

-- The table becomes outbox (ALTER TABLE RENAME also points page_attempts, receipt_cancels and delivery_events at it),
-- and pages stays as what it always meant: the outbox rows that reach a person. Reports, the ledger and status read
-- pages; only the outbox's own code (and the stores that write pages) write outbox.
ALTER TABLE pages RENAME TO outbox;
CREATE VIEW pages AS SELECT * FROM outbox WHERE channel NOT IN ('irc', 'email');

CREATE TABLE chat_outages (
    id          INTEGER PRIMARY KEY,
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    -- 'start': the bot has not joined since it started (no "back on IRC" report for those); 'lost': a connection dropped.
    kind        TEXT    NOT NULL CHECK (kind IN ('start', 'lost'))
);
CREATE INDEX chat_outages_open ON chat_outages(id) WHERE ended_at IS NULL;

-- A storm (more alerts at once than Paging:StormThreshold) is said as grouped lines every Paging:StormFlushEvery.
-- Its state was in memory; now it is this row, and what it counts is derived from the alerts themselves: those
-- announced (dispositions announced, countdown, joined, ack_mode) with ids after said_through, up to last_alert_id.
CREATE TABLE storms (
    id            INTEGER PRIMARY KEY,
    started_at    INTEGER NOT NULL,
    flush_at      INTEGER NOT NULL,
    quiet_at      INTEGER NOT NULL,
    said_through  INTEGER NOT NULL,
    last_alert_id INTEGER NOT NULL,
    pending       INTEGER NOT NULL DEFAULT 0,
    ended_at      INTEGER
);
CREATE INDEX storms_open ON storms(id) WHERE ended_at IS NULL;
