-- Duty handover offers, incident reports, the stipend ledger and the monthly payout runs (issue 3).
-- Times are Unix milliseconds UTC; days and months are ledger-time-zone dates as text ('2026-10-25', '2026-10').

-- `lars duty give <nick>` writes a pending offer; it takes effect only when the named person accepts within
-- expires_at. A row, not a timer, so an offer survives a restart and expires on the clock the bot is given.
CREATE TABLE duty_offers (
    id          INTEGER PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    from_person TEXT    NOT NULL,
    to_person   TEXT    NOT NULL,
    by_nick     TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'expired', 'withdrawn')),
    resolved_at INTEGER
);
CREATE INDEX duty_offers_pending ON duty_offers(to_person) WHERE state = 'pending';

-- `lars report <alert-id> <text>`: the incident report that releases a page's held bonus. One page (countdown)
-- may get several reports; the first one from the person who acked releases the bonus.
CREATE TABLE incident_reports (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    countdown_id INTEGER NOT NULL REFERENCES countdowns(id),
    alert_id     INTEGER NOT NULL REFERENCES alerts(id),
    person_id    TEXT    NOT NULL,
    nick         TEXT    NOT NULL,
    text         TEXT    NOT NULL
);
CREATE INDEX incident_reports_countdown ON incident_reports(countdown_id);

-- The ledger: append-only. Each row is a change to what one person is owed for one fact (a day's stipend, a page's
-- bonus, a docking); the amount owed is the sum of the rows with the same key. A correction is a new row holding
-- the difference, never an edit. amount is decimal text ('13.33', '-40.00'): SQLite has no decimal type and REAL
-- would round money. pay_month is the payout the row belongs to: the fact's month, or, once that month has been
-- paid out, the month the correction was recorded in.
CREATE TABLE ledger_entries (
    id           INTEGER PRIMARY KEY,
    recorded_at  INTEGER NOT NULL,
    pay_month    TEXT    NOT NULL,
    day          TEXT    NOT NULL,
    person_id    TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('stipend', 'bonus_paid', 'bonus_held', 'dock_out', 'dock_in')),
    countdown_id INTEGER REFERENCES countdowns(id),
    amount       TEXT    NOT NULL,
    duty_ms      INTEGER NOT NULL DEFAULT 0,
    pages        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ledger_entries_month ON ledger_entries(pay_month);
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only: add a correcting row instead'); END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only: add a correcting row instead'); END;

-- "Remind once a day while a report is missing": one row per page and ledger day, so a restart never repeats it.
CREATE TABLE report_reminders (
    countdown_id INTEGER NOT NULL REFERENCES countdowns(id),
    day          TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (countdown_id, day)
);

-- One row per month whose payout report was written: the monthly job's memory, so a restart on the 1st (or a
-- bot that was down at 09:00) runs a missed month once and never twice.
CREATE TABLE payout_runs (
    month  TEXT PRIMARY KEY,
    ran_at INTEGER NOT NULL,
    folder TEXT    NOT NULL
);
