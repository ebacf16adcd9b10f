-- Indexes that every write paid for and no query needs any more: a reply
-- is now stored in the same transaction as the message it answers, so it is
-- never looked up by reply_to; and old USSD sessions are swept every few
-- minutes, where a scan of the table costs less than keeping an index on a
-- column every hop rewrites.
DROP INDEX messages_reply_to;
DROP INDEX ussd_sessions_updated;
-- The resume lookup finds a phone's recent open session among that phone's
-- few rows; indexing the phone alone keeps the index still when a hop
-- rewrites updated_at.
DROP INDEX ussd_sessions_phone;
CREATE INDEX ussd_sessions_phone ON ussd_sessions (phone);
