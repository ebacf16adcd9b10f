-- The senders look only for queued messages; indexing only those keeps the
-- inbound messages, and everything already sent, out of the index they
-- would otherwise each add an entry to.
DROP INDEX messages_outbox;
CREATE INDEX messages_queued ON messages (next_attempt_at, id) WHERE status = 'queued';
