-- A message the receiving server refused because its address, or the address's domain, does not
-- exist (error class `mailbox_unknown` or `domain_not_found`) is never redelivered: it would
-- bounce again, and repeated bounces harm the sender's standing with receiving servers. The rule
-- joins those of 0005, checked by the database whoever inserts the item.
CREATE OR REPLACE FUNCTION redelivery_item_allowed() RETURNS trigger LANGUAGE plpgsql AS $$
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
    IF m.error_class IN ('mailbox_unknown', 'domain_not_found') THEN
        RAISE EXCEPTION 'message % goes to an address that does not exist (%)', NEW.message_id, m.error_class
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
