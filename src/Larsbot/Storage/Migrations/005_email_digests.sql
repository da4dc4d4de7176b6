-- The info e-mail digest (issue 6): one row per digest sent, naming the last alert it covered. The next digest takes
-- the info alerts after it, so a failed send is simply tried again at the next interval and nothing is skipped.
-- Written only after the SMTP server accepted the message: a crash between the two may send one digest twice.
CREATE TABLE email_digests (
    id            INTEGER PRIMARY KEY,
    sent_at       INTEGER NOT NULL,
    last_alert_id INTEGER NOT NULL,
    alerts        INTEGER NOT NULL,
    recipients    TEXT    NOT NULL
);
