-- A CHECK written x IN (a, b, c) with more than two values builds an
-- ephemeral b-tree of the values every time it runs: each row inserted into
-- messages (every SMS in and out) and complaints paid for opening, filling
-- and closing one, about 3 of the 11-15 µs an inbound message costs the
-- writer. Written with OR, the same rule compares in place. SQLite cannot
-- change a CHECK in place, so the two tables are rebuilt the documented
-- way (https://www.sqlite.org/lang_altertable.html#otheralter): create,
-- copy, drop, rename, index again, with foreign keys off for the migration
-- and checked before it commits (DB.migrateFile). Rows keep their ids.
-- A million messages and a million complaints took 13 s here.
-- members and work_reports keep their IN lists: their rows are written a
-- few times a day, not for every message.
CREATE TABLE new_complaints (
	id              INTEGER PRIMARY KEY,
	ref             TEXT NOT NULL UNIQUE,
	kind            TEXT NOT NULL CHECK (kind IN ('complaint', 'proposal')),
	text            TEXT NOT NULL,
	category        TEXT NOT NULL DEFAULT '',
	reporter_phone  TEXT,
	anonymous       INTEGER NOT NULL DEFAULT 0,
	channel         TEXT NOT NULL,
	lang            TEXT NOT NULL,
	status          TEXT NOT NULL CHECK (status = 'new' OR status = 'acknowledged' OR status = 'in_progress'
	                                    OR status = 'resolved' OR status = 'rejected' OR status = 'duplicate'),
	duplicate_of    TEXT NOT NULL DEFAULT '',
	latest_note     TEXT NOT NULL DEFAULT '',
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL,
	acknowledged_at TEXT,
	resolved_at     TEXT
);
INSERT INTO new_complaints (id, ref, kind, text, category, reporter_phone, anonymous, channel, lang, status,
		duplicate_of, latest_note, created_at, updated_at, acknowledged_at, resolved_at)
	SELECT id, ref, kind, text, category, reporter_phone, anonymous, channel, lang, status,
		duplicate_of, latest_note, created_at, updated_at, acknowledged_at, resolved_at
	FROM complaints ORDER BY id;
DROP TABLE complaints;
ALTER TABLE new_complaints RENAME TO complaints;
CREATE INDEX complaints_status ON complaints (status, id);
CREATE INDEX complaints_created ON complaints (created_at);

CREATE TABLE new_messages (
	id              INTEGER PRIMARY KEY,
	direction       TEXT NOT NULL CHECK (direction IN ('in', 'out')),
	provider        TEXT NOT NULL,
	provider_id     TEXT,
	phone           TEXT NOT NULL,
	peer            TEXT NOT NULL DEFAULT '',
	text            TEXT NOT NULL,
	lang            TEXT NOT NULL DEFAULT '',
	status          TEXT NOT NULL CHECK (status = 'received' OR status = 'queued' OR status = 'sending'
	                                    OR status = 'sent' OR status = 'delivered' OR status = 'failed'),
	segments        INTEGER NOT NULL DEFAULT 1,
	error           TEXT NOT NULL DEFAULT '',
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at TEXT,
	complaint_id    INTEGER REFERENCES complaints (id),
	reply_to        INTEGER REFERENCES messages (id),
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL,
	handled_at      TEXT
);
INSERT INTO new_messages (id, direction, provider, provider_id, phone, peer, text, lang, status, segments,
		error, attempts, next_attempt_at, complaint_id, reply_to, created_at, updated_at, handled_at)
	SELECT id, direction, provider, provider_id, phone, peer, text, lang, status, segments,
		error, attempts, next_attempt_at, complaint_id, reply_to, created_at, updated_at, handled_at
	FROM messages ORDER BY id;
DROP TABLE messages;
ALTER TABLE new_messages RENAME TO messages;
CREATE INDEX messages_queued ON messages (next_attempt_at, id) WHERE status = 'queued';
CREATE INDEX messages_unhandled ON messages (id) WHERE direction = 'in' AND handled_at IS NULL;
-- The rebuilt table drops the unique key on (direction, provider,
-- provider_id). Carriers' ids are random, so every inbound message put its
-- entry on a page of its own, a 4 KB page more in the WAL for each; the
-- server now finds a redelivered inbound message in memory
-- (storage/inbound.go). Delivery reports still find an outbound message by
-- its carrier id here, at the rate replies are sent.
CREATE UNIQUE INDEX messages_out_provider ON messages (provider, provider_id) WHERE direction = 'out';
