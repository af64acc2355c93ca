-- Redelivery, SQLite dialect: the same table and rules as migrations/postgres/0005_redelivery.sql
-- (see there), the rules as a trigger that aborts the insert.

CREATE TABLE release_contents (
    release_id INTEGER PRIMARY KEY REFERENCES releases (id),
    subject    TEXT NOT NULL,
    body_text  TEXT NOT NULL
);

CREATE TRIGGER redelivery_items_allowed BEFORE INSERT ON redelivery_items BEGIN
    SELECT RAISE(ABORT, 'the message was delivered or is queued: it is never redelivered')
    WHERE (SELECT status FROM messages WHERE id = NEW.message_id) IN ('sent', 'queued');
    SELECT RAISE(ABORT, 'a redelivery is the message''s next generation')
    WHERE NEW.generation <> (SELECT generation + 1 FROM messages WHERE id = NEW.message_id);
    SELECT RAISE(ABORT, 'the message goes to a suppressed address')
    WHERE EXISTS (SELECT 1 FROM suppressions s, messages m
                  WHERE m.id = NEW.message_id AND lower(s.address) = lower(m.recipient)
                    AND (s.company_id IS NULL OR s.company_id = m.company_id));
END;

CREATE INDEX redelivery_items_request ON redelivery_items (request_id, status);
CREATE INDEX redelivery_items_leased ON redelivery_items (lease_until) WHERE status = 'sending';

CREATE TABLE incident_answers (
    company_id  INTEGER NOT NULL REFERENCES companies (id),
    notice_slug TEXT NOT NULL,
    answer      TEXT NOT NULL CHECK (answer IN ('redeliver', 'leave')),
    answered_by INTEGER REFERENCES users (id),
    on_behalf   BOOLEAN NOT NULL DEFAULT FALSE,
    request_id  INTEGER REFERENCES redelivery_requests (id),
    answered_at TEXT NOT NULL,
    PRIMARY KEY (company_id, notice_slug)
);

ALTER TABLE redelivery_requests ADD COLUMN notified_at TEXT;
