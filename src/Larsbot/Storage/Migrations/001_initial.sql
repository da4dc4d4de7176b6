-- The first schema: everything the page loop needs to resume after a restart is a row here.
-- Times are Unix milliseconds UTC.

-- Every alert accepted by an intake, stored before we answer 202/OK. handled_at is NULL until the engine has
-- announced it and decided what it means, so an alert accepted just before a crash is still handled after it.
CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY,
    received_at  INTEGER NOT NULL,
    source       TEXT    NOT NULL,
    host         TEXT    NOT NULL,
    level        TEXT    NOT NULL CHECK (level IN ('urgent', 'irc', 'info')),
    message      TEXT    NOT NULL,
    -- The exact UTF-8 bytes, kept only when the message holds a NUL: Microsoft.Data.Sqlite cuts longer strings at
    -- an embedded NUL when binding them, so such text is stored here whole and shown in `message` with a literal \0.
    message_raw  BLOB,
    handled_at   INTEGER,
    disposition  TEXT,     -- countdown | joined | ack_mode | announced | recorded
    countdown_id INTEGER REFERENCES countdowns(id)
);
CREATE INDEX alerts_unhandled ON alerts(id) WHERE handled_at IS NULL;
CREATE INDEX alerts_countdown ON alerts(countdown_id);

-- One escalation: 30 s countdown -> page the on-duty person -> 5 min later page everybody. At most one is open
-- (state counting or paged) at a time; urgent alerts arriving meanwhile join it.
CREATE TABLE countdowns (
    id             INTEGER PRIMARY KEY,
    started_at     INTEGER NOT NULL,
    page_at        INTEGER NOT NULL,
    escalate_at    INTEGER,
    state          TEXT    NOT NULL CHECK (state IN ('counting', 'paged', 'escalated', 'acked')),
    duty_person    TEXT,             -- on duty when it started; NULL = nobody, so the first page goes to everybody
    last_tick      INTEGER NOT NULL DEFAULT 0, -- last "in N secs" line said (tick number), so a restart never repeats one
    paged_at       INTEGER,
    escalated_at   INTEGER,
    ack_id         INTEGER REFERENCES acks(id)
);
CREATE INDEX countdowns_open ON countdowns(state) WHERE state IN ('counting', 'paged');

CREATE TABLE acks (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    nick         TEXT    NOT NULL,
    person_id    TEXT    NOT NULL,
    source       TEXT    NOT NULL DEFAULT 'irc',
    alerts_acked INTEGER NOT NULL
);

-- The outbox: one row per person, channel and stage, written in the same transaction that decides the page is due.
-- The UNIQUE constraint is the "never page twice for one thing" rule in the schema itself.
CREATE TABLE pages (
    id              INTEGER PRIMARY KEY,
    countdown_id    INTEGER NOT NULL REFERENCES countdowns(id),
    stage           TEXT    NOT NULL CHECK (stage IN ('first', 'everyone')),
    person_id       TEXT    NOT NULL,
    channel         TEXT    NOT NULL CHECK (channel IN ('sms', 'push')),
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
CREATE INDEX pages_due ON pages(next_attempt_at) WHERE state = 'due';

-- Every try at sending a page, with the provider's answer (secrets removed).
CREATE TABLE page_attempts (
    id                      INTEGER PRIMARY KEY,
    page_id                 INTEGER NOT NULL REFERENCES pages(id),
    started_at              INTEGER NOT NULL,
    finished_at             INTEGER,
    outcome                 TEXT,    -- sent | retry | give_up | interrupted (crash mid-send)
    detail                  TEXT,
    may_have_been_delivered INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE duty_changes (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    person_id TEXT,                  -- NULL = nobody on duty from here on
    by_nick   TEXT    NOT NULL,
    kind      TEXT    NOT NULL       -- take | give | release
);

-- Ack mode periods. ended_at is set when the period is over (expired or replaced by a newer ack).
CREATE TABLE ack_modes (
    id         INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    ack_id     INTEGER NOT NULL REFERENCES acks(id),
    ended_at   INTEGER
);
CREATE INDEX ack_modes_active ON ack_modes(ends_at) WHERE ended_at IS NULL;

CREATE TABLE health_probe (id INTEGER PRIMARY KEY, at INTEGER NOT NULL);
