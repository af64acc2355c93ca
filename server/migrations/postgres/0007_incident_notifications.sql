-- Staff telling each company an incident affected: one row per company, incident (its notice's
-- slug) and version of that notice. The key is the rule: a company is never told twice about
-- the same version. The email is composed when staff ask (in the company's language, naming its
-- releases) and sent by the dispatcher, which fills sent_at. Written by the site.
CREATE TABLE incident_notifications (
    company_id   BIGINT NOT NULL REFERENCES companies (id),
    notice_slug  TEXT NOT NULL,
    revision     BIGINT NOT NULL CHECK (revision >= 1),
    requested_by BIGINT REFERENCES users (id),
    requested_at TIMESTAMPTZ NOT NULL,
    to_address   TEXT NOT NULL,
    subject      TEXT NOT NULL,
    body_text    TEXT NOT NULL,
    body_html    TEXT NOT NULL,
    sent_at      TIMESTAMPTZ,
    PRIMARY KEY (company_id, notice_slug, revision)
);

-- The dispatcher's queue of emails not yet sent.
CREATE INDEX incident_notifications_unsent ON incident_notifications (requested_at) WHERE sent_at IS NULL;
