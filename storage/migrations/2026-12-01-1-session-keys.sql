-- Sessions were keyed by the carrier's session id and indexed by phone
-- number, both random strings: every new session put an entry on a page of
-- its own in each of two b-trees, two more 4 KB pages for the WAL (and the
-- checkpoint) than its row, and a session save cost three to four times an
-- append. The table is now keyed by a number the server gives in order, so a
-- new session's row lands beside the last one, and the server finds sessions
-- by id and by phone in memory (storage/session.go).
CREATE TABLE ussd_sessions_by_key (
	k          INTEGER PRIMARY KEY,
	id         TEXT NOT NULL,
	phone      TEXT NOT NULL,
	state      BLOB NOT NULL,
	ended      INTEGER NOT NULL DEFAULT 0,
	updated_at TEXT NOT NULL
);
INSERT INTO ussd_sessions_by_key (k, id, phone, state, ended, updated_at)
	SELECT rowid, id, phone, state, ended, updated_at FROM ussd_sessions ORDER BY rowid;
DROP TABLE ussd_sessions;
ALTER TABLE ussd_sessions_by_key RENAME TO ussd_sessions;
