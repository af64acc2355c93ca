-- The company portal, SQLite dialect: the same tables as migrations/postgres/0004_portal.sql
-- (see there). SQLite has no statement-level triggers: the counts are kept row by row.

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE release_counts (
    release_id  INTEGER NOT NULL,
    status      TEXT NOT NULL,
    redelivered BOOLEAN NOT NULL,
    messages    INTEGER NOT NULL CHECK (messages >= 0),
    PRIMARY KEY (release_id, status, redelivered)
) WITHOUT ROWID;

CREATE TRIGGER messages_counts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO release_counts (release_id, status, redelivered, messages)
    VALUES (NEW.release_id, NEW.status, NEW.generation > 0, 1)
    ON CONFLICT (release_id, status, redelivered) DO UPDATE SET messages = messages + 1;
END;

CREATE TRIGGER messages_counts_update AFTER UPDATE OF release_id, status, generation ON messages BEGIN
    UPDATE release_counts SET messages = messages - 1
    WHERE release_id = OLD.release_id AND status = OLD.status AND redelivered = (OLD.generation > 0);
    INSERT INTO release_counts (release_id, status, redelivered, messages)
    VALUES (NEW.release_id, NEW.status, NEW.generation > 0, 1)
    ON CONFLICT (release_id, status, redelivered) DO UPDATE SET messages = messages + 1;
END;

CREATE TRIGGER messages_counts_delete AFTER DELETE ON messages BEGIN
    UPDATE release_counts SET messages = messages - 1
    WHERE release_id = OLD.release_id AND status = OLD.status AND redelivered = (OLD.generation > 0);
END;

INSERT INTO release_counts (release_id, status, redelivered, messages)
SELECT release_id, status, generation > 0, COUNT(*) FROM messages GROUP BY 1, 2, 3;

CREATE INDEX messages_undelivered_by_release ON messages (release_id, recipient)
    WHERE status IN ('deferred', 'bounced', 'failed', 'not_sent', 'unknown');
