-- Replayed SMS acks (issue 15 part 4). Twilio signs a request but the signature never expires, so anyone who saw one
-- correctly signed "ack" reply could send it again to ack (and renew ack mode) whenever they liked. Each MessageSid
-- is accepted once: it is claimed here before the ack, and a request whose MessageSid is already here acks nothing.
-- Kept for good: one short row per SMS reply, and a forgotten sid would make its old request valid again.
CREATE TABLE twilio_message_sids (
    message_sid TEXT    PRIMARY KEY,
    seen_at     INTEGER NOT NULL,
    from_number TEXT    NOT NULL
) WITHOUT ROWID;
