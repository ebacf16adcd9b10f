package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/karyashala/karyashala/domain"
)

var _ domain.ComplaintService = (*ComplaintService)(nil)

// ComplaintService stores complaints and proposals with their history, and
// records the reporter's SMS in the outbox in the same transaction as each
// change, so a change is never made without its notification or vice versa.
type ComplaintService struct {
	db *DB
	// NotifyText writes the SMS a reporter gets when her report changes; the
	// SMS channel replaces it with its per-language templates.
	NotifyText func(c *domain.Complaint, ev *domain.ComplaintEvent) string
}

// NewComplaintService returns the complaint service on db.
func NewComplaintService(db *DB) *ComplaintService {
	return &ComplaintService{db: db, NotifyText: DefaultNotifyText}
}

// DefaultNotifyText is a short English or Hindi update, used until the SMS
// channel sets its templates.
func DefaultNotifyText(c *domain.Complaint, ev *domain.ComplaintEvent) string {
	status := strings.ReplaceAll(c.Status, "_", " ")
	if c.Lang == "hi" {
		names := map[string]string{
			domain.StatusAcknowledged: "स्वीकार", domain.StatusInProgress: "काम जारी", domain.StatusResolved: "हल",
			domain.StatusRejected: "अस्वीकार", domain.StatusDuplicate: "दोहराव", domain.StatusNew: "नया",
		}
		s := fmt.Sprintf("%s: %s", c.Ref, names[c.Status])
		if ev.Note != "" {
			s += ". " + ev.Note
		}
		return s
	}
	s := fmt.Sprintf("%s is now %s", c.Ref, status)
	if ev.Note != "" {
		s += ": " + ev.Note
	}
	return s
}

const complaintCols = `id, ref, kind, text, category, COALESCE(reporter_phone, ''), anonymous, channel, lang, status, duplicate_of, latest_note, created_at, updated_at, acknowledged_at, resolved_at`

func scanComplaint(row scanner) (*domain.Complaint, error) {
	var c domain.Complaint
	var created, updated string
	var ack, res sql.NullString
	if err := row.Scan(&c.ID, &c.Ref, &c.Kind, &c.Text, &c.Category, &c.ReporterPhone, &c.Anonymous, &c.Channel, &c.Lang, &c.Status,
		&c.DuplicateOf, &c.LatestNote, &created, &updated, &ack, &res); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt, c.AcknowledgedAt, c.ResolvedAt = parseTime(created), parseTime(updated), parseTimePtr(ack), parseTimePtr(res)
	return &c, nil
}

// insertComplaint stores a complaint's row; like the message inserts, it
// runs for every COMPLAINT and PROPOSAL and must build no b-tree for its
// CHECKs (TestHotInsertsBuildNoTables).
const insertComplaint = `INSERT INTO complaints (ref, kind, text, category, reporter_phone, anonymous, channel, lang, status, created_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'new', ?, ?)`

// CreateComplaint stores a new complaint or proposal.
func (s *ComplaintService) CreateComplaint(ctx context.Context, n domain.NewComplaint) (*domain.Complaint, error) {
	n.Text = strings.TrimSpace(n.Text)
	switch {
	case n.Kind != domain.KindComplaint && n.Kind != domain.KindProposal:
		return nil, domain.Errorf(domain.EINVALID, "kind: must be complaint or proposal, not %q", n.Kind)
	case n.Text == "":
		return nil, domain.Errorf(domain.EINVALID, "text: say what the problem or idea is")
	case !utf8.ValidString(n.Text):
		return nil, domain.Errorf(domain.EINVALID, "text: is not valid UTF-8")
	case utf8.RuneCountInString(n.Text) > 2000:
		return nil, domain.Errorf(domain.EINVALID, "text: at most 2000 characters")
	case n.Channel == "":
		return nil, domain.Errorf(domain.EINVALID, "channel: required")
	}
	if n.Lang == "" {
		n.Lang = s.db.Languages[0]
	}
	if n.Anonymous {
		n.ReporterPhone = ""
	}
	now := s.db.now()
	c := &domain.Complaint{Kind: n.Kind, Text: n.Text, Category: strings.TrimSpace(n.Category), ReporterPhone: n.ReporterPhone, Anonymous: n.Anonymous,
		Channel: n.Channel, Lang: n.Lang, Status: domain.StatusNew, CreatedAt: now, UpdatedAt: now}
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		var seq int64
		if err := tx.QueryRowContext(ctx, `UPDATE sequences SET value = value + 1 WHERE name = ? RETURNING value`, n.Kind).Scan(&seq); err != nil {
			return fmt.Errorf("next reference: %w", err)
		}
		letter := "C"
		if n.Kind == domain.KindProposal {
			letter = "P"
		}
		c.Ref = fmt.Sprintf("%s%d", letter, seq)
		err := insertID(ctx, tx, &c.ID, insertComplaint,
			c.Ref, c.Kind, c.Text, c.Category, nullStr(c.ReporterPhone), c.Anonymous, c.Channel, c.Lang, fmtTime(now), fmtTime(now))
		if err != nil {
			return err
		}
		actor := "reporter"
		if c.Anonymous {
			actor = "anonymous"
		}
		ev := &domain.ComplaintEvent{At: now, Actor: actor, ToStatus: domain.StatusNew}
		c.History = []*domain.ComplaintEvent{ev}
		return insertEvent(ctx, tx, c.ID, ev)
	})
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", n.Kind, err)
	}
	return c, nil
}

func insertEvent(ctx context.Context, tx *sql.Tx, complaintID int64, ev *domain.ComplaintEvent) error {
	return insertID(ctx, tx, &ev.ID, `INSERT INTO complaint_events (complaint_id, at, actor, from_status, to_status, note) VALUES (?, ?, ?, ?, ?, ?)`,
		complaintID, fmtTime(ev.At), ev.Actor, ev.FromStatus, ev.ToStatus, ev.Note)
}

func complaintByRef(ctx context.Context, q querier, ref string) (*domain.Complaint, error) {
	canon, err := domain.ParseRef(ref)
	if err != nil {
		return nil, err
	}
	c, err := scanComplaint(q.QueryRowContext(ctx, `SELECT `+complaintCols+` FROM complaints WHERE ref = ?`, canon))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, domain.Errorf(domain.ENOTFOUND, "%s not found; check the reference", canon)
	} else if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT id, at, actor, from_status, to_status, note FROM complaint_events WHERE complaint_id = ? ORDER BY id`, c.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var ev domain.ComplaintEvent
		var at string
		if err := rows.Scan(&ev.ID, &at, &ev.Actor, &ev.FromStatus, &ev.ToStatus, &ev.Note); err != nil {
			return nil, err
		}
		ev.At = parseTime(at)
		c.History = append(c.History, &ev)
	}
	return c, rows.Err()
}

// ComplaintByRef returns a complaint with its history, as the write
// transaction ctx runs inside (if any) sees it.
func (s *ComplaintService) ComplaintByRef(ctx context.Context, ref string) (*domain.Complaint, error) {
	return complaintByRef(ctx, s.db.reader(ctx), ref)
}

// FindComplaints lists complaints newest first (or oldest first for triage).
func (s *ComplaintService) FindComplaints(ctx context.Context, f domain.ComplaintFilter) ([]*domain.Complaint, string, error) {
	after, err := parseCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	if f.Status != "" && f.Status != domain.StatusNew && !slices.Contains(domain.ValidStatuses, f.Status) {
		return nil, "", domain.Errorf(domain.EINVALID, "status: %q is not one of new, acknowledged, in_progress, resolved, rejected, duplicate", f.Status)
	}
	if f.Kind != "" && f.Kind != domain.KindComplaint && f.Kind != domain.KindProposal {
		return nil, "", domain.Errorf(domain.EINVALID, "kind: %q is not complaint or proposal", f.Kind)
	}
	lim := limit(f.Limit)
	var w where
	order := ` ORDER BY id DESC`
	if f.OldestFirst {
		order = ` ORDER BY id`
		w.add(after > 0, `id > ?`, after)
	} else {
		w.add(after > 0, `id < ?`, after)
	}
	w.add(f.Status != "", `status = ?`, f.Status)
	w.add(f.Kind != "", `kind = ?`, f.Kind)
	w.add(f.Category != "", `category = ?`, f.Category)
	w.add(f.Reporter != "", `reporter_phone = ?`, f.Reporter)
	q, args := `SELECT `+complaintCols+` FROM complaints`+w.String(), w.args
	return page(ctx, s.db.r, q+order+` LIMIT ?`, append(args, lim), lim, scanComplaint, func(v *domain.Complaint) int64 { return v.ID })
}

// ChangeComplaint applies a leader's change and records the reporter's SMS.
func (s *ComplaintService) ChangeComplaint(ctx context.Context, ref string, ch domain.ComplaintChange, actor string) (*domain.Complaint, error) {
	ch.Note = strings.TrimSpace(ch.Note)
	if ch.Status == "" && ch.Note == "" {
		return nil, domain.Errorf(domain.EINVALID, "status: give a new status, a note, or both")
	}
	if ch.Status != "" && !slices.Contains(domain.ValidStatuses, ch.Status) {
		return nil, domain.Errorf(domain.EINVALID, "status: %q is not one of %s", ch.Status, strings.Join(domain.ValidStatuses, ", "))
	}
	if utf8.RuneCountInString(ch.Note) > domain.MaxNoteChars {
		return nil, domain.Errorf(domain.EINVALID, "note: at most %d characters", domain.MaxNoteChars)
	}
	var c *domain.Complaint
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		var err error
		if c, err = complaintByRef(ctx, tx, ref); err != nil {
			return err
		}
		now := s.db.now()
		ev := &domain.ComplaintEvent{At: now, Actor: actor, FromStatus: c.Status, ToStatus: c.Status, Note: ch.Note}
		if ch.Status != "" && ch.Status != c.Status {
			if domain.IsClosed(c.Status) {
				return domain.Errorf(domain.ECONFLICT, "%s is already %s; add a note instead, or record a new report", c.Ref, c.Status)
			}
			ev.ToStatus = ch.Status
		} else if ch.Status != "" && ch.Note == "" {
			return domain.Errorf(domain.ECONFLICT, "%s is already %s", c.Ref, c.Status)
		}
		if ch.Status == domain.StatusDuplicate {
			orig, err := domain.ParseRef(ch.DuplicateOf)
			if err != nil {
				return domain.Errorf(domain.EINVALID, "duplicate_of: name the original report, like C1042")
			}
			if orig == c.Ref {
				return domain.Errorf(domain.EINVALID, "duplicate_of: a report cannot duplicate itself")
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM complaints WHERE ref = ?`, orig).Scan(&n); err != nil {
				return err
			} else if n == 0 {
				return domain.Errorf(domain.EINVALID, "duplicate_of: %s not found", orig)
			}
			c.DuplicateOf = orig
		}
		c.Status = ev.ToStatus
		c.UpdatedAt = now
		if ch.Note != "" {
			c.LatestNote = ch.Note
		}
		if c.AcknowledgedAt == nil && c.Status != domain.StatusNew {
			c.AcknowledgedAt = &now
		}
		if c.Status == domain.StatusResolved && c.ResolvedAt == nil {
			c.ResolvedAt = &now
		}
		if _, err := tx.ExecContext(ctx, `UPDATE complaints SET status = ?, duplicate_of = ?, latest_note = ?, updated_at = ?, acknowledged_at = ?, resolved_at = ? WHERE id = ?`,
			c.Status, c.DuplicateOf, c.LatestNote, fmtTime(now), fmtTimePtr(c.AcknowledgedAt), fmtTimePtr(c.ResolvedAt), c.ID); err != nil {
			return err
		}
		if err := insertEvent(ctx, tx, c.ID, ev); err != nil {
			return err
		}
		c.History = append(c.History, ev)
		if c.Anonymous || c.ReporterPhone == "" {
			return nil
		}
		m := &domain.Message{Phone: c.ReporterPhone, Text: s.NotifyText(c, ev), Lang: c.Lang, ComplaintID: c.ID}
		return s.db.enqueue(ctx, tx, m, false)
	})
	if err != nil {
		return nil, fmt.Errorf("change %s: %w", ref, err)
	}
	return c, nil
}
