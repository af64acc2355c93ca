-- Indexes for the questions the site asks. The bulk loader (`statusdesk demo-data`) drops them
-- before a load and builds them again after it.

-- A company's releases, newest first (portal).
CREATE INDEX releases_company_sent ON releases (company_id, sent_at DESC);
-- Traffic in a time window (impact: the share of the window's messages). A release's
-- recipients, by status or not, are found through UNIQUE (release_id, recipient).
CREATE INDEX messages_queued_at ON messages (queued_at);
-- Undelivered messages in a time window (impact): small, since almost every message is sent, and
-- it holds every column the impact filters on, so the query never reads the table itself.
CREATE INDEX messages_undelivered ON messages (queued_at, error_class, route, release_id, company_id)
    WHERE status IN ('deferred', 'bounced', 'failed', 'not_sent', 'unknown');
-- Redelivery work to claim.
CREATE INDEX redelivery_items_due ON redelivery_items (next_attempt_at) WHERE status IN ('queued', 'deferred');
-- The audit log, newest first.
CREATE INDEX audit_log_at ON audit_log (at DESC);
