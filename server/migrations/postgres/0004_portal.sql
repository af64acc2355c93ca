-- The company portal: login sessions, and per-release totals kept up to date by triggers.

-- A logged-in session of the portal or the staff console. The cookie carries a random token;
-- only its SHA-256 is stored, so this table alone lets nobody in. Idle timeout and absolute
-- lifetime are checked against the two times; disabling a user deletes its sessions.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Echoed in every form the session's pages post (CSRF).
    csrf_token   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Messages per release, status and generation (first delivery or redelivery), kept by
-- statement-level triggers on `messages` (whoever writes them: the mail sender, a COPY, the
-- dispatcher), so that the portal lists releases with their totals without counting messages.
CREATE TABLE release_counts (
    release_id  BIGINT NOT NULL,
    status      TEXT NOT NULL,
    redelivered BOOLEAN NOT NULL,
    messages    BIGINT NOT NULL CHECK (messages >= 0),
    PRIMARY KEY (release_id, status, redelivered)
);

CREATE FUNCTION release_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE release_counts c SET messages = c.messages - r.n
        FROM (SELECT release_id, status, generation > 0 AS redelivered, COUNT(*) AS n
              FROM removed GROUP BY 1, 2, 3) r
        WHERE c.release_id = r.release_id AND c.status = r.status AND c.redelivered = r.redelivered;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO release_counts (release_id, status, redelivered, messages)
        SELECT release_id, status, generation > 0, COUNT(*) FROM added GROUP BY 1, 2, 3
        ON CONFLICT (release_id, status, redelivered)
            DO UPDATE SET messages = release_counts.messages + EXCLUDED.messages;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_counts_insert AFTER INSERT ON messages
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION release_counts_apply();
CREATE TRIGGER messages_counts_update AFTER UPDATE ON messages
    REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION release_counts_apply();
CREATE TRIGGER messages_counts_delete AFTER DELETE ON messages
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION release_counts_apply();

INSERT INTO release_counts (release_id, status, redelivered, messages)
SELECT release_id, status, generation > 0, COUNT(*) FROM messages GROUP BY 1, 2, 3;

-- A release's undelivered recipients in address order (the portal's "undelivered" filter and
-- its CSV): small, since almost every message is delivered.
CREATE INDEX messages_undelivered_by_release ON messages (release_id, recipient)
    WHERE status IN ('deferred', 'bounced', 'failed', 'not_sent', 'unknown');
