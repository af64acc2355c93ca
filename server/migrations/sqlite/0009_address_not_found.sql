-- A message the receiving server refused because its address, or the address's domain, does not
-- exist (error class `mailbox_unknown` or `domain_not_found`) is never redelivered: it would
-- bounce again, and repeated bounces harm the sender's standing with receiving servers. The rule
-- joins those of 0005 (SQLite cannot change a trigger: it is made again with the new rule).
DROP TRIGGER redelivery_items_allowed;
CREATE TRIGGER redelivery_items_allowed BEFORE INSERT ON redelivery_items BEGIN
    SELECT RAISE(ABORT, 'the message was delivered or is queued: it is never redelivered')
    WHERE (SELECT status FROM messages WHERE id = NEW.message_id) IN ('sent', 'queued');
    SELECT RAISE(ABORT, 'a redelivery is the message''s next generation')
    WHERE NEW.generation <> (SELECT generation + 1 FROM messages WHERE id = NEW.message_id);
    SELECT RAISE(ABORT, 'the message goes to a suppressed address')
    WHERE EXISTS (SELECT 1 FROM suppressions s, messages m
                  WHERE m.id = NEW.message_id AND lower(s.address) = lower(m.recipient)
                    AND (s.company_id IS NULL OR s.company_id = m.company_id));
    SELECT RAISE(ABORT, 'the message goes to an address that does not exist')
    WHERE (SELECT error_class FROM messages WHERE id = NEW.message_id) IN ('mailbox_unknown', 'domain_not_found');
END;
