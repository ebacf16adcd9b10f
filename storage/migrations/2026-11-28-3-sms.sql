-- The SMS channel looks up the reply to an inbound message when a carrier
-- delivers it twice, to answer it exactly once.
CREATE INDEX messages_reply_to ON messages (reply_to);
