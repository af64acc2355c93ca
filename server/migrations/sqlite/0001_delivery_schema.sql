-- The delivery database, SQLite dialect: the same tables, columns and rules as
-- migrations/postgres/0001_delivery_schema.sql (see there, and docs/delivery-database.md, for
-- what each is for). Times are stored as sqlx writes chrono's DateTime<Utc>: UTC text that
-- sorts in time order.

CREATE TABLE companies (
    id            INTEGER PRIMARY KEY,
    slug          TEXT NOT NULL UNIQUE CHECK (slug <> '' AND slug NOT GLOB '*[^a-z0-9-]*' AND slug NOT GLOB '-*'),
    name          TEXT NOT NULL CHECK (name <> ''),
    language      TEXT NOT NULL DEFAULT 'ja' CHECK (language IN ('ja', 'en')),
    contact_email TEXT,
    created_at    TEXT NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    company_id    INTEGER REFERENCES companies (id),
    email         TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL CHECK (role IN ('company', 'staff')),
    password_hash TEXT NOT NULL,
    disabled_at   TEXT,
    created_at    TEXT NOT NULL,
    CHECK ((role = 'staff') = (company_id IS NULL))
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE releases (
    id                INTEGER PRIMARY KEY,
    company_id        INTEGER NOT NULL REFERENCES companies (id),
    title             TEXT NOT NULL,
    sender_address    TEXT NOT NULL,
    sender_is_default BOOLEAN NOT NULL,
    recipient_source  TEXT NOT NULL CHECK (recipient_source IN ('media_list', 'import_list')),
    created_at        TEXT NOT NULL,
    sent_at           TEXT,
    UNIQUE (id, company_id)
);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    company_id      INTEGER NOT NULL,
    release_id      INTEGER NOT NULL,
    recipient       TEXT NOT NULL,
    route           TEXT NOT NULL CHECK (route IN ('legacy', 'cloud')),
    status          TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'deferred', 'bounced', 'failed', 'not_sent', 'unknown')),
    error_class     TEXT CHECK (error_class IN ('mailbox_unknown', 'domain_not_found', 'mailbox_full', 'rejected_as_spam', 'timeout', 'sender_domain_unverified', 'connection_lost')),
    smtp_code       INTEGER CHECK (smtp_code BETWEEN 200 AND 599),
    enhanced_code   TEXT,
    smtp_reply      TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    generation      INTEGER NOT NULL DEFAULT 0 CHECK (generation >= 0),
    queued_at       TEXT NOT NULL,
    last_attempt_at TEXT,
    FOREIGN KEY (release_id, company_id) REFERENCES releases (id, company_id),
    UNIQUE (release_id, recipient),
    CHECK ((status = 'sent') = (error_class IS NULL) OR status IN ('queued', 'unknown'))
);

CREATE TABLE delivery_attempts (
    message_id    INTEGER NOT NULL REFERENCES messages (id),
    generation    INTEGER NOT NULL CHECK (generation >= 0),
    attempt       INTEGER NOT NULL CHECK (attempt >= 1),
    attempted_at  TEXT NOT NULL,
    route         TEXT NOT NULL CHECK (route IN ('legacy', 'cloud')),
    smtp_code     INTEGER CHECK (smtp_code BETWEEN 200 AND 599),
    enhanced_code TEXT,
    reply         TEXT,
    outcome       TEXT NOT NULL CHECK (outcome IN ('in_flight', 'sent', 'deferred', 'bounced', 'failed', 'not_sent', 'unknown')),
    PRIMARY KEY (message_id, generation, attempt)
);

CREATE TABLE suppressions (
    id         INTEGER PRIMARY KEY,
    company_id INTEGER REFERENCES companies (id),
    address    TEXT NOT NULL,
    reason     TEXT NOT NULL CHECK (reason IN ('hard_bounce', 'complaint', 'unsubscribe', 'manual')),
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX suppressions_global_key ON suppressions (lower(address)) WHERE company_id IS NULL;
CREATE UNIQUE INDEX suppressions_company_key ON suppressions (company_id, lower(address)) WHERE company_id IS NOT NULL;

CREATE TABLE redelivery_requests (
    id              INTEGER PRIMARY KEY,
    company_id      INTEGER NOT NULL REFERENCES companies (id),
    release_id      INTEGER REFERENCES releases (id),
    requested_by    INTEGER REFERENCES users (id),
    on_behalf       BOOLEAN NOT NULL DEFAULT FALSE,
    reason          TEXT,
    idempotency_key TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'in_progress', 'done', 'cancelled')),
    created_at      TEXT NOT NULL,
    completed_at    TEXT,
    UNIQUE (company_id, idempotency_key),
    CHECK (NOT on_behalf OR reason IS NOT NULL)
);

CREATE TABLE redelivery_items (
    id              INTEGER PRIMARY KEY,
    request_id      INTEGER NOT NULL REFERENCES redelivery_requests (id),
    message_id      INTEGER NOT NULL REFERENCES messages (id),
    generation      INTEGER NOT NULL CHECK (generation >= 1),
    status          TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'deferred', 'failed', 'unknown')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_until     TEXT,
    updated_at      TEXT NOT NULL,
    UNIQUE (message_id, generation)
);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor_id   INTEGER REFERENCES users (id),
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    company_id INTEGER REFERENCES companies (id),
    target     TEXT,
    detail     TEXT
);
