-- Karyashala's first schema. Times are UTC text in a fixed-width layout so
-- they sort; money is integer minor units. Portable to PostgreSQL but for
-- INTEGER PRIMARY KEY (BIGSERIAL there).

CREATE TABLE workshops (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	address    TEXT NOT NULL DEFAULT '',
	hours      TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL
);

CREATE TABLE members (
	id          INTEGER PRIMARY KEY,
	phone       TEXT NOT NULL UNIQUE,
	name        TEXT NOT NULL DEFAULT '',
	lang        TEXT NOT NULL,
	workshop_id INTEGER REFERENCES workshops (id),
	role        TEXT NOT NULL CHECK (role IN ('worker', 'leader')),
	status      TEXT NOT NULL CHECK (status IN ('pending', 'active', 'inactive')),
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL
);

-- The language a phone chose, for residents who are not members too.
CREATE TABLE phone_langs (
	phone      TEXT PRIMARY KEY,
	lang       TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

CREATE TABLE help_requests (
	id          INTEGER PRIMARY KEY,
	member_id   INTEGER NOT NULL REFERENCES members (id),
	workshop_id INTEGER NOT NULL REFERENCES workshops (id),
	note        TEXT NOT NULL DEFAULT '',
	status      TEXT NOT NULL CHECK (status IN ('open', 'closed')),
	created_at  TEXT NOT NULL,
	closed_at   TEXT,
	closed_by   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX help_requests_status ON help_requests (status, id);

CREATE TABLE tasks (
	id          INTEGER PRIMARY KEY,
	titles      TEXT NOT NULL, -- JSON object language -> title
	kind        TEXT NOT NULL DEFAULT '',
	rate_minor  INTEGER NOT NULL CHECK (rate_minor > 0),
	quantity    INTEGER NOT NULL CHECK (quantity > 0),
	free        INTEGER NOT NULL CHECK (free >= 0 AND free <= quantity),
	deadline    TEXT,
	workshop_id INTEGER REFERENCES workshops (id),
	status      TEXT NOT NULL CHECK (status IN ('open', 'closed')),
	created_at  TEXT NOT NULL
);
CREATE INDEX tasks_status ON tasks (status, id);

CREATE TABLE assignments (
	id         INTEGER PRIMARY KEY,
	task_id    INTEGER NOT NULL REFERENCES tasks (id),
	member_id  INTEGER NOT NULL REFERENCES members (id),
	quantity   INTEGER NOT NULL CHECK (quantity > 0),
	reported   INTEGER NOT NULL DEFAULT 0 CHECK (reported >= 0 AND reported <= quantity),
	created_at TEXT NOT NULL
);
CREATE INDEX assignments_member ON assignments (member_id, id);

CREATE TABLE work_reports (
	id            INTEGER PRIMARY KEY,
	assignment_id INTEGER NOT NULL REFERENCES assignments (id),
	task_id       INTEGER NOT NULL REFERENCES tasks (id),
	member_id     INTEGER NOT NULL REFERENCES members (id),
	quantity      INTEGER NOT NULL CHECK (quantity > 0),
	amount_minor  INTEGER NOT NULL CHECK (amount_minor >= 0),
	status        TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
	reason        TEXT NOT NULL DEFAULT '',
	created_at    TEXT NOT NULL,
	decided_at    TEXT,
	decided_by    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX work_reports_status ON work_reports (status, id);
CREATE INDEX work_reports_member ON work_reports (member_id, id);

CREATE TABLE ledger (
	id             INTEGER PRIMARY KEY,
	member_id      INTEGER NOT NULL REFERENCES members (id),
	kind           TEXT NOT NULL CHECK (kind IN ('earning', 'payout')),
	amount_minor   INTEGER NOT NULL CHECK (amount_minor > 0),
	work_report_id INTEGER UNIQUE REFERENCES work_reports (id),
	reference      TEXT UNIQUE,
	note           TEXT NOT NULL DEFAULT '',
	created_by     TEXT NOT NULL DEFAULT '',
	created_at     TEXT NOT NULL
);
CREATE INDEX ledger_member ON ledger (member_id, id);

CREATE TABLE trainings (
	id          INTEGER PRIMARY KEY,
	titles      TEXT NOT NULL,
	starts_at   TEXT NOT NULL,
	place       TEXT NOT NULL,
	capacity    INTEGER NOT NULL CHECK (capacity > 0),
	signed_up   INTEGER NOT NULL DEFAULT 0 CHECK (signed_up >= 0 AND signed_up <= capacity),
	workshop_id INTEGER REFERENCES workshops (id),
	topic       TEXT NOT NULL DEFAULT '',
	created_at  TEXT NOT NULL
);
CREATE INDEX trainings_starts ON trainings (starts_at);

CREATE TABLE training_signups (
	training_id INTEGER NOT NULL REFERENCES trainings (id),
	member_id   INTEGER NOT NULL REFERENCES members (id),
	created_at  TEXT NOT NULL,
	PRIMARY KEY (training_id, member_id)
);

CREATE TABLE training_requests (
	id         INTEGER PRIMARY KEY,
	member_id  INTEGER REFERENCES members (id),
	topic      TEXT NOT NULL,
	topic_key  TEXT NOT NULL, -- lower-cased, spaces folded: requests are counted by it
	created_at TEXT NOT NULL
);
CREATE INDEX training_requests_topic ON training_requests (topic_key);

-- Per-kind counters for complaint references (C1042, P17).
CREATE TABLE sequences (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL
);
INSERT INTO sequences (name, value) VALUES ('complaint', 1000), ('proposal', 0);

CREATE TABLE complaints (
	id              INTEGER PRIMARY KEY,
	ref             TEXT NOT NULL UNIQUE,
	kind            TEXT NOT NULL CHECK (kind IN ('complaint', 'proposal')),
	text            TEXT NOT NULL,
	category        TEXT NOT NULL DEFAULT '',
	reporter_phone  TEXT,
	anonymous       INTEGER NOT NULL DEFAULT 0,
	channel         TEXT NOT NULL,
	lang            TEXT NOT NULL,
	status          TEXT NOT NULL CHECK (status IN ('new', 'acknowledged', 'in_progress', 'resolved', 'rejected', 'duplicate')),
	duplicate_of    TEXT NOT NULL DEFAULT '',
	latest_note     TEXT NOT NULL DEFAULT '',
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL,
	acknowledged_at TEXT,
	resolved_at     TEXT
);
CREATE INDEX complaints_status ON complaints (status, id);
CREATE INDEX complaints_reporter ON complaints (reporter_phone, id);
CREATE INDEX complaints_created ON complaints (created_at);

CREATE TABLE complaint_events (
	id           INTEGER PRIMARY KEY,
	complaint_id INTEGER NOT NULL REFERENCES complaints (id),
	at           TEXT NOT NULL,
	actor        TEXT NOT NULL,
	from_status  TEXT NOT NULL DEFAULT '',
	to_status    TEXT NOT NULL,
	note         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX complaint_events_complaint ON complaint_events (complaint_id, id);

-- Every SMS in and out. Outbound rows are the outbox the senders drain.
CREATE TABLE messages (
	id              INTEGER PRIMARY KEY,
	direction       TEXT NOT NULL CHECK (direction IN ('in', 'out')),
	provider        TEXT NOT NULL,
	provider_id     TEXT,
	phone           TEXT NOT NULL,
	peer            TEXT NOT NULL DEFAULT '',
	text            TEXT NOT NULL,
	lang            TEXT NOT NULL DEFAULT '',
	status          TEXT NOT NULL CHECK (status IN ('received', 'queued', 'sending', 'sent', 'delivered', 'failed')),
	segments        INTEGER NOT NULL DEFAULT 1,
	error           TEXT NOT NULL DEFAULT '',
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at TEXT,
	complaint_id    INTEGER REFERENCES complaints (id),
	reply_to        INTEGER REFERENCES messages (id),
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL,
	UNIQUE (direction, provider, provider_id)
);
CREATE INDEX messages_outbox ON messages (status, next_attempt_at) ;
CREATE INDEX messages_phone ON messages (phone, id);

CREATE TABLE opt_outs (
	phone      TEXT PRIMARY KEY,
	created_at TEXT NOT NULL
);

CREATE TABLE tokens (
	id           INTEGER PRIMARY KEY,
	name         TEXT NOT NULL,
	role         TEXT NOT NULL CHECK (role IN ('operator', 'leader')),
	hash         TEXT NOT NULL UNIQUE, -- hex SHA-256 of the secret
	created_at   TEXT NOT NULL,
	last_used_at TEXT
);

CREATE TABLE ussd_sessions (
	id         TEXT PRIMARY KEY,
	phone      TEXT NOT NULL,
	state      BLOB NOT NULL,
	ended      INTEGER NOT NULL DEFAULT 0,
	updated_at TEXT NOT NULL
);
CREATE INDEX ussd_sessions_phone ON ussd_sessions (phone, updated_at);
CREATE INDEX ussd_sessions_updated ON ussd_sessions (updated_at);
