-- Messages queued per hour and company, kept by triggers on `messages`, so that "how many
-- messages were sent in this window" reads a few hundred rows instead of counting millions
-- (impact analysis). Statement-level triggers with transition tables: a COPY or a multi-row
-- insert by the mail sender updates the counts once per statement, not once per row.
-- `hour` is the start of the hour in UTC.
CREATE TABLE message_hours (
    hour       TIMESTAMP NOT NULL,
    company_id BIGINT NOT NULL,
    messages   BIGINT NOT NULL CHECK (messages >= 0),
    PRIMARY KEY (hour, company_id)
);

CREATE FUNCTION message_hours_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO message_hours (hour, company_id, messages)
    SELECT date_trunc('hour', queued_at AT TIME ZONE 'UTC'), company_id, COUNT(*)
    FROM added GROUP BY 1, 2
    ON CONFLICT (hour, company_id) DO UPDATE SET messages = message_hours.messages + EXCLUDED.messages;
    RETURN NULL;
END
$$;

CREATE FUNCTION message_hours_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE message_hours h SET messages = h.messages - r.n
    FROM (SELECT date_trunc('hour', queued_at AT TIME ZONE 'UTC') AS hour, company_id, COUNT(*) AS n
          FROM removed GROUP BY 1, 2) r
    WHERE h.hour = r.hour AND h.company_id = r.company_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_hours_insert AFTER INSERT ON messages
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION message_hours_add();
CREATE TRIGGER messages_hours_delete AFTER DELETE ON messages
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION message_hours_remove();

-- `queued_at` and `company_id` never change once written: the counts stay right.
CREATE FUNCTION messages_keep_hour() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'messages.queued_at and messages.company_id cannot change';
END
$$;
CREATE TRIGGER messages_keep_hour BEFORE UPDATE OF queued_at, company_id ON messages
    FOR EACH ROW WHEN (OLD.queued_at IS DISTINCT FROM NEW.queued_at OR OLD.company_id IS DISTINCT FROM NEW.company_id)
    EXECUTE FUNCTION messages_keep_hour();

INSERT INTO message_hours (hour, company_id, messages)
SELECT date_trunc('hour', queued_at AT TIME ZONE 'UTC'), company_id, COUNT(*) FROM messages GROUP BY 1, 2;
