-- Redelivery: what a release says when it is sent again, the rules a redelivery item must keep
-- (checked by the database whoever inserts it), and the answers companies give to an incident.

-- The content a release was sent with, kept while it may be redelivered. No row: the content is
-- no longer available, and the release's messages cannot be redelivered.
CREATE TABLE release_contents (
    release_id BIGINT PRIMARY KEY REFERENCES releases (id),
    subject    TEXT NOT NULL,
    body_text  TEXT NOT NULL
);

-- A redelivery item may only take a message that was not delivered, is not queued, is not
-- suppressed for its company or for everyone, and only as the message's next generation.
CREATE FUNCTION redelivery_item_allowed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    m messages%ROWTYPE;
BEGIN
    SELECT * INTO m FROM messages WHERE id = NEW.message_id;
    IF m.status IN ('sent', 'queued') THEN
        RAISE EXCEPTION 'message % is %: it is never redelivered', NEW.message_id, m.status
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.generation <> m.generation + 1 THEN
        RAISE EXCEPTION 'message % is at generation %: its redelivery is generation %, not %',
            NEW.message_id, m.generation, m.generation + 1, NEW.generation USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM suppressions s
               WHERE lower(s.address) = lower(m.recipient) AND (s.company_id IS NULL OR s.company_id = m.company_id)) THEN
        RAISE EXCEPTION 'message % goes to a suppressed address', NEW.message_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER redelivery_items_allowed BEFORE INSERT ON redelivery_items
    FOR EACH ROW EXECUTE FUNCTION redelivery_item_allowed();

-- Redelivery items of a request, for its progress.
CREATE INDEX redelivery_items_request ON redelivery_items (request_id, status);
-- Items a dispatcher is sending, for taking back the ones whose dispatcher died.
CREATE INDEX redelivery_items_leased ON redelivery_items (lease_until) WHERE status = 'sending';

-- A company's answer to an incident's question: redeliver the messages it left unsent, or leave
-- them. One answer per company and incident; "redeliver" names the request it created.
CREATE TABLE incident_answers (
    company_id  BIGINT NOT NULL REFERENCES companies (id),
    notice_slug TEXT NOT NULL,
    answer      TEXT NOT NULL CHECK (answer IN ('redeliver', 'leave')),
    answered_by BIGINT REFERENCES users (id),
    on_behalf   BOOLEAN NOT NULL DEFAULT FALSE,
    request_id  BIGINT REFERENCES redelivery_requests (id),
    answered_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, notice_slug)
);

-- When the company was told its request is done (the completion email).
ALTER TABLE redelivery_requests ADD COLUMN notified_at TIMESTAMPTZ;
