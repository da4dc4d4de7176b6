-- An ack stops every page, and a problem still there pages again (issue 13).

-- A Pushover emergency page keeps ringing the phone every Pushover:EmergencyRetry until acknowledged on it. Its
-- receipt is kept apart from provider_id (which holds the request id for normal pages) so the bot knows which pages
-- it can still stop ringing.
ALTER TABLE pages ADD COLUMN receipt TEXT;

-- Emergency pages to stop ringing, written in the same transaction as the ack (or the resolve) that ended their
-- countdown, and drained by the outbox sender with the same durable retries as pages. Cancelling twice is harmless,
-- so a crash mid-cancel simply cancels again.
CREATE TABLE receipt_cancels (
    page_id         INTEGER PRIMARY KEY REFERENCES pages(id),
    receipt         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('due', 'sending', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    done_at         INTEGER,
    detail          TEXT
);
CREATE INDEX receipt_cancels_due ON receipt_cancels(next_attempt_at) WHERE state = 'due';

-- The highest alert id when an ack-mode period started: the alerts seen during the period are the ones after it, so
-- "still firing when ack mode ends" is a range scan of the period's own alerts, not of the whole table.
ALTER TABLE ack_modes ADD COLUMN alerts_after INTEGER;
