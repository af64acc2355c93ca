-- Why a message was not delivered, kept on the item that redelivers it: the message itself takes
-- each attempt's outcome (a message sent at last has no error class), yet an incident's figures
-- go on counting what it left undelivered, with the class it first failed with. Written by the
-- site when it makes the item. Items made before this column get the class their message still
-- has when it has not been redelivered yet; for the others it is lost (NULL).
ALTER TABLE redelivery_items ADD COLUMN previous_error_class TEXT
    CHECK (previous_error_class IN ('mailbox_unknown', 'domain_not_found', 'mailbox_full', 'rejected_as_spam', 'timeout', 'sender_domain_unverified', 'connection_lost'));

UPDATE redelivery_items SET previous_error_class = (
    SELECT m.error_class FROM messages m
    WHERE m.id = redelivery_items.message_id AND m.generation = redelivery_items.generation - 1
);
