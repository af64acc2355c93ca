-- PostgreSQL keeps per-hour message counts here (see migrations/postgres/0003). SQLite counts
-- its messages directly through the `messages_queued_at` index, which is fast enough at the
-- sizes it serves; this migration keeps the two folders numbered alike.
SELECT 1;
