-- The dispatcher's queue in claim order. A claim takes the due items with the earliest
-- next_attempt_at, then the lowest id; with both in the index it reads the first few entries
-- instead of sorting every waiting item (a request of 100,000 items made each claim sort them all).
DROP INDEX redelivery_items_due;
CREATE INDEX redelivery_items_due ON redelivery_items (next_attempt_at, id) WHERE status IN ('queued', 'deferred');
