-- The people woken hear the outcome, and every page's fate is visible (issue 18).
-- When a page is acked or resolved, everyone who was actually paged for it gets one short follow-up through the
-- same outbox. A follow-up is a pages row of stage 'followup' (one per
-- person and countdown: the engine picks the one channel that reached them). SQLite cannot widen a CHECK in place,
-- so pages is rebuilt as in 004; page_attempts and receipt_cancels refer to pages, and foreign keys are deferred
-- to the commit, by which time every page row is back with its id.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE pages_before_011 AS SELECT * FROM pages;
DROP TABLE pages;

CREATE TABLE pages (
    id              INTEGER PRIMARY KEY,
    countdown_id    INTEGER NOT NULL REFERENCES countdowns(id),
    stage           TEXT    NOT NULL CHECK (stage IN ('first', 'everyone', 'followup')),
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
    receipt         TEXT,
    -- What the provider said later about delivery (Twilio's status callbacks, or polling the message): queued, sent,
    -- delivered, undelivered, failed; for calls completed, busy, no-answer, failed. Only ever moves forward.
    delivery_state  TEXT,
    delivery_error  TEXT,
    delivery_at     INTEGER,
    UNIQUE (countdown_id, stage, person_id, channel)
);
INSERT INTO pages (id, countdown_id, stage, person_id, channel, destination, title, body, created_at, state, attempts,
                   next_attempt_at, sent_at, provider_id, receipt)
SELECT id, countdown_id, stage, person_id, channel, destination, title, body, created_at, state, attempts,
       next_attempt_at, sent_at, provider_id, receipt
FROM pages_before_011;
DROP TABLE pages_before_011;
CREATE INDEX pages_due ON pages(next_attempt_at) WHERE state = 'due';
CREATE INDEX pages_by_provider_id ON pages(provider_id) WHERE provider_id IS NOT NULL;

-- Every delivery report as it came (callbacks may arrive out of order or twice): the history behind delivery_state.
-- A report can overtake the provider's own answer (Twilio calls back 'queued' or 'sent' before the bot has recorded
-- the sid): it is kept with page_id NULL and applied when the page is recorded as sent.
CREATE TABLE delivery_events (
    id          INTEGER PRIMARY KEY,
    page_id     INTEGER REFERENCES pages(id),
    provider_id TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    error_code  TEXT,
    at          INTEGER NOT NULL,
    source      TEXT    NOT NULL  -- callback | poll
);
CREATE INDEX delivery_events_page ON delivery_events(page_id);
CREATE INDEX delivery_events_pending ON delivery_events(provider_id) WHERE page_id IS NULL;
