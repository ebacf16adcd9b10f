-- Every inbound SMS put an entry in messages_phone and, as a complaint, in
-- complaints_reporter; their keys are phone numbers, so each entry lands on
-- a page of its own and every message paid for writing two more pages to
-- the WAL (and the checkpoint) than its row. Both indexes served only
-- operator lookups (a reporter's messages beside her complaint, the API's
-- phone filters), which now read the table newest first: a programme's
-- tables hold thousands of rows, and docs/performance.md has the cost at a
-- million.
DROP INDEX messages_phone;
DROP INDEX complaints_reporter;
