-- An inbound message is stored (and the carrier answered) first, and
-- answered by the inbox handler after: handled_at is NULL until then. The
-- partial index holds only the messages waiting, so it stays a few pages
-- however long the log grows. Every message stored before this migration
-- was answered in the carrier's request.
ALTER TABLE messages ADD COLUMN handled_at TEXT;
UPDATE messages SET handled_at = created_at WHERE direction = 'in';
CREATE INDEX messages_unhandled ON messages (id) WHERE direction = 'in' AND handled_at IS NULL;
