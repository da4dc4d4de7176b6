-- Leader and standbys (issue 17): the same tables as SQLite's 013_leadership.sql, where they are explained.
CREATE TABLE leader_lease (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    holder      TEXT   NOT NULL,
    term        BIGINT NOT NULL,
    acquired_at BIGINT NOT NULL,
    renewed_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE leader_terms (
    term             BIGINT PRIMARY KEY,
    holder           TEXT   NOT NULL,
    started_at       BIGINT NOT NULL,
    previous         TEXT,
    previous_seen_at BIGINT,
    announced_at     BIGINT
);
