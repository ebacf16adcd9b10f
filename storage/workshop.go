package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/karyashala/karyashala/domain"
)

var _ domain.WorkshopService = (*WorkshopService)(nil)

// WorkshopService stores micro-workshops and help requests.
type WorkshopService struct{ db *DB }

// NewWorkshopService returns the workshop service on db.
func NewWorkshopService(db *DB) *WorkshopService { return &WorkshopService{db: db} }

// CreateWorkshop adds a workshop.
func (s *WorkshopService) CreateWorkshop(ctx context.Context, w *domain.Workshop) error {
	w.Name = strings.TrimSpace(w.Name)
	if w.Name == "" {
		return domain.Errorf(domain.EINVALID, "name: required")
	}
	w.CreatedAt = s.db.now()
	return s.db.write(ctx, func(tx *sql.Tx) error {
		return insertID(ctx, tx, &w.ID, `INSERT INTO workshops (name, address, hours, created_at) VALUES (?, ?, ?, ?)`,
			w.Name, w.Address, w.Hours, fmtTime(w.CreatedAt))
	})
}

func scanWorkshop(row scanner) (*domain.Workshop, error) {
	var w domain.Workshop
	var created string
	if err := row.Scan(&w.ID, &w.Name, &w.Address, &w.Hours, &created); err != nil {
		return nil, err
	}
	w.CreatedAt = parseTime(created)
	return &w, nil
}

// WorkshopByID returns one workshop.
func (s *WorkshopService) WorkshopByID(ctx context.Context, id int64) (*domain.Workshop, error) {
	w, err := scanWorkshop(s.db.r.QueryRowContext(ctx, `SELECT id, name, address, hours, created_at FROM workshops WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, domain.Errorf(domain.ENOTFOUND, "workshop %d not found", id)
	}
	return w, err
}

// FindWorkshops lists workshops by name.
func (s *WorkshopService) FindWorkshops(ctx context.Context) ([]*domain.Workshop, error) {
	return list(ctx, s.db.r, `SELECT id, name, address, hours, created_at FROM workshops ORDER BY name, id`, nil, scanWorkshop)
}

// RequestHelp records a help request.
func (s *WorkshopService) RequestHelp(ctx context.Context, memberID, workshopID int64, note string) (*domain.HelpRequest, error) {
	if utf8.RuneCountInString(note) > 500 {
		return nil, domain.Errorf(domain.EINVALID, "note: at most 500 characters")
	}
	h := &domain.HelpRequest{MemberID: memberID, WorkshopID: workshopID, Note: strings.TrimSpace(note), Status: domain.HelpOpen, CreatedAt: s.db.now()}
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		var home sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT workshop_id FROM members WHERE id = ?`, memberID).Scan(&home)
		if errors.Is(err, sql.ErrNoRows) {
			return domain.Errorf(domain.ENOTFOUND, "member %d not found", memberID)
		} else if err != nil {
			return err
		}
		if h.WorkshopID == 0 {
			if !home.Valid {
				return domain.Errorf(domain.EINVALID, "workshop: member %d has no home workshop; name the workshop", memberID)
			}
			h.WorkshopID = home.Int64
		}
		if err := workshopExists(ctx, tx, h.WorkshopID); err != nil {
			return err
		}
		return insertID(ctx, tx, &h.ID, `INSERT INTO help_requests (member_id, workshop_id, note, status, created_at) VALUES (?, ?, ?, 'open', ?)`,
			memberID, h.WorkshopID, h.Note, fmtTime(h.CreatedAt))
	})
	if err != nil {
		return nil, fmt.Errorf("request help: %w", err)
	}
	return h, nil
}

const helpCols = `id, member_id, workshop_id, note, status, created_at, closed_at, closed_by`

func scanHelp(row scanner) (*domain.HelpRequest, error) {
	var h domain.HelpRequest
	var created string
	var closed sql.NullString
	if err := row.Scan(&h.ID, &h.MemberID, &h.WorkshopID, &h.Note, &h.Status, &created, &closed, &h.ClosedBy); err != nil {
		return nil, err
	}
	h.CreatedAt, h.ClosedAt = parseTime(created), parseTimePtr(closed)
	return &h, nil
}

// FindHelpRequests lists help requests newest first.
func (s *WorkshopService) FindHelpRequests(ctx context.Context, status string) ([]*domain.HelpRequest, error) {
	q := `SELECT ` + helpCols + ` FROM help_requests`
	var args []any
	if status != "" {
		q += ` WHERE status = ?`
		args = append(args, status)
	}
	return list(ctx, s.db.r, q+` ORDER BY id DESC LIMIT 500`, args, scanHelp)
}

// CloseHelpRequest closes an open help request.
func (s *WorkshopService) CloseHelpRequest(ctx context.Context, id int64, by string) (*domain.HelpRequest, error) {
	var h *domain.HelpRequest
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE help_requests SET status = 'closed', closed_at = ?, closed_by = ? WHERE id = ? AND status = 'open'`,
			fmtTime(s.db.now()), by, id)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		h, err = scanHelp(tx.QueryRowContext(ctx, `SELECT `+helpCols+` FROM help_requests WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return domain.Errorf(domain.ENOTFOUND, "help request %d not found; GET /api/v1/help-requests?status=open lists the open ones", id)
		} else if err != nil {
			return err
		}
		if n == 0 {
			return domain.Errorf(domain.ECONFLICT, "help request %d is already closed", id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}
