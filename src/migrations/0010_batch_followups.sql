-- Up Migration

-- What a recorded batch still owes the broker: its retry batch and its dead-letter batch, written in the same
-- statement as the batch's outcome (before anything is published) and cleared once the broker confirmed them. A
-- publish failing (RabbitMQ restarting, a memory alarm) then never sends the batch again: the next attempt, or a
-- redelivered copy, finds the batch done and publishes what is still owed (deterministic message ids, so a repeat
-- is dropped by the consumers).
ALTER TABLE sent_batches ADD COLUMN followups jsonb;

-- Down Migration

ALTER TABLE sent_batches DROP COLUMN followups;
