-- Leader and standbys (issue 17). Several instances may share one PostgreSQL database; exactly one, the leader, runs
-- the paging engine, the outbox sender, the monthly job and the IRC connection. Leadership is a lease the database
-- enforces: the leader renews it every second, on the database's clock; a standby takes it only once it has expired.
-- A SQLite file has one instance, always the leader: it keeps these tables only so both schemas are the same.
CREATE TABLE leader_lease (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    holder      TEXT    NOT NULL,   -- Leadership:Name of the instance that leads
    term        INTEGER NOT NULL,   -- one more with every new leader: the fence a leader's writes check
    acquired_at INTEGER NOT NULL,   -- Unix ms, database clock
    renewed_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

-- One row per term: who took over from whom, said once in the channel by the new leader's engine.
CREATE TABLE leader_terms (
    term             INTEGER PRIMARY KEY,
    holder           TEXT    NOT NULL,
    started_at       INTEGER NOT NULL,
    previous         TEXT,              -- the leader before, if there was one
    previous_seen_at INTEGER,           -- its last renewal: "gone N s" is started_at minus this
    announced_at     INTEGER
);
