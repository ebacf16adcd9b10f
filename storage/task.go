package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/karyashala/karyashala/domain"
)

var _ domain.TaskService = (*TaskService)(nil)

// TaskService stores tasks, assignments and work reports. Every check that
// guards a quantity is part of the UPDATE that changes it, so it holds under
// any number of concurrent writers, here and on PostgreSQL alike.
type TaskService struct{ db *DB }

// NewTaskService returns the task service on db.
func NewTaskService(db *DB) *TaskService { return &TaskService{db: db} }

const taskCols = `id, titles, kind, rate_minor, quantity, free, deadline, COALESCE(workshop_id, 0), status, created_at`

func scanTask(row scanner) (*domain.Task, error) {
	var t domain.Task
	var titles, created string
	var deadline sql.NullString
	if err := row.Scan(&t.ID, &titles, &t.Kind, &t.RateMinor, &t.Quantity, &t.Free, &deadline, &t.WorkshopID, &t.Status, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(titles), &t.Titles); err != nil {
		return nil, fmt.Errorf("task %d titles: %w", t.ID, err)
	}
	t.Deadline, t.CreatedAt = parseTimePtr(deadline), parseTime(created)
	return &t, nil
}

func trimTitles(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if v = strings.TrimSpace(v); v != "" {
			out[k] = v
		}
	}
	return out
}

// CreateTask adds an open task with all of its quantity free.
func (s *TaskService) CreateTask(ctx context.Context, t *domain.Task) error {
	t.Titles = trimTitles(t.Titles)
	if err := t.Validate(s.db.Languages); err != nil {
		return err
	}
	if t.Deadline != nil && !t.Deadline.After(s.db.now()) {
		return domain.Errorf(domain.EINVALID, "deadline: %s is in the past", t.Deadline.Format("2006-01-02 15:04"))
	}
	titles, _ := json.Marshal(t.Titles)
	t.Free, t.Status, t.CreatedAt = t.Quantity, domain.TaskOpen, s.db.now()
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		if t.WorkshopID != 0 {
			if err := workshopExists(ctx, tx, t.WorkshopID); err != nil {
				return err
			}
		}
		return insertID(ctx, tx, &t.ID, `INSERT INTO tasks (titles, kind, rate_minor, quantity, free, deadline, workshop_id, status, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?)`,
			string(titles), t.Kind, t.RateMinor, t.Quantity, t.Free, fmtTimePtr(t.Deadline), nullID(t.WorkshopID), fmtTime(t.CreatedAt))
	})
	if err != nil {
		return fmt.Errorf("create task: %w", err)
	}
	return nil
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func taskByID(ctx context.Context, q queryRower, id int64) (*domain.Task, error) {
	t, err := scanTask(q.QueryRowContext(ctx, `SELECT `+taskCols+` FROM tasks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, domain.Errorf(domain.ENOTFOUND, "task %d not found", id)
	}
	return t, err
}

// TaskByID returns one task.
func (s *TaskService) TaskByID(ctx context.Context, id int64) (*domain.Task, error) {
	return taskByID(ctx, s.db.r, id)
}

// FindTasks lists tasks newest first.
func (s *TaskService) FindTasks(ctx context.Context, f domain.TaskFilter) ([]*domain.Task, string, error) {
	before, err := parseCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	lim := limit(f.Limit)
	var w where
	w.add(before > 0, `id < ?`, before)
	w.add(f.Status != "", `status = ?`, f.Status)
	switch {
	case f.ForWorkshop && f.WorkshopID != 0:
		w.add(true, `(workshop_id = ? OR workshop_id IS NULL)`, f.WorkshopID)
	case f.ForWorkshop:
		w.conds = append(w.conds, `workshop_id IS NULL`)
	default:
		w.add(f.WorkshopID != 0, `workshop_id = ?`, f.WorkshopID)
	}
	w.add(f.OnlyFree, `free > 0 AND (deadline IS NULL OR deadline > ?)`, fmtTime(s.db.now()))
	q := `SELECT ` + taskCols + ` FROM tasks` + w.String() + ` ORDER BY id DESC LIMIT ?`
	args := append(w.args, lim)
	return page(ctx, s.db.r, q, args, lim, scanTask, func(v *domain.Task) int64 { return v.ID })
}

// UpdateTask changes titles, status, deadline or quantity.
func (s *TaskService) UpdateTask(ctx context.Context, id int64, u domain.TaskUpdate) (*domain.Task, error) {
	if u.Status != nil && *u.Status != domain.TaskOpen && *u.Status != domain.TaskClosed {
		return nil, domain.Errorf(domain.EINVALID, "status: must be open or closed, not %q", *u.Status)
	}
	var t *domain.Task
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		var err error
		if t, err = taskByID(ctx, tx, id); err != nil {
			return err
		}
		if u.Titles != nil {
			for k, v := range trimTitles(u.Titles) {
				t.Titles[k] = v
			}
		}
		if u.Status != nil {
			t.Status = *u.Status
		}
		if u.Deadline != nil {
			d := *u.Deadline
			t.Deadline = &d
		}
		if u.AddQuantity != nil {
			d := *u.AddQuantity
			if t.Free+d < 0 {
				return domain.Errorf(domain.ECONFLICT, "add_quantity: only %d units are still free; accepted units cannot be taken back", t.Free)
			}
			t.Quantity += d
			t.Free += d
		}
		if err := t.Validate(s.db.Languages); err != nil {
			return err
		}
		titles, _ := json.Marshal(t.Titles)
		// free is adjusted relative to its current value, so units accepted
		// meanwhile are never handed out twice.
		d := int64(0)
		if u.AddQuantity != nil {
			d = *u.AddQuantity
		}
		res, err := tx.ExecContext(ctx, `UPDATE tasks SET titles = ?, status = ?, deadline = ?, quantity = quantity + ?, free = free + ?
			WHERE id = ? AND free + ? >= 0`, string(titles), t.Status, fmtTimePtr(t.Deadline), d, d, id, d)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return domain.Errorf(domain.ECONFLICT, "add_quantity: accepted units cannot be taken back")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// AcceptTask gives a member qty units of a task, or none at all.
func (s *TaskService) AcceptTask(ctx context.Context, memberID, taskID, qty int64) (*domain.Assignment, error) {
	if qty <= 0 {
		return nil, domain.Errorf(domain.EINVALID, "quantity: must be at least 1, not %d", qty)
	}
	now := s.db.now()
	a := &domain.Assignment{TaskID: taskID, MemberID: memberID, Quantity: qty, CreatedAt: now}
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		if err := activeMember(ctx, tx, memberID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE tasks SET free = free - ?
			WHERE id = ? AND status = 'open' AND free >= ? AND (deadline IS NULL OR deadline > ?)`,
			qty, taskID, qty, fmtTime(now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			t, err := taskByID(ctx, tx, taskID)
			if err != nil {
				return err
			}
			switch {
			case t.Status != domain.TaskOpen:
				return domain.Errorf(domain.ECONFLICT, "task %d is closed", taskID)
			case t.Deadline != nil && !t.Deadline.After(now):
				return domain.Errorf(domain.ECONFLICT, "task %d is past its deadline", taskID)
			case t.Free == 0:
				return domain.Errorf(domain.ECONFLICT, "task %d is sold out", taskID)
			default:
				return domain.Errorf(domain.ECONFLICT, "task %d has only %d units free; accept %d or fewer", taskID, t.Free, t.Free)
			}
		}
		return insertID(ctx, tx, &a.ID, `INSERT INTO assignments (task_id, member_id, quantity, reported, created_at) VALUES (?, ?, ?, 0, ?)`,
			taskID, memberID, qty, fmtTime(now))
	})
	if err != nil {
		return nil, fmt.Errorf("accept task %d: %w", taskID, err)
	}
	return a, nil
}

func activeMember(ctx context.Context, tx *sql.Tx, id int64) error {
	var status string
	err := tx.QueryRowContext(ctx, `SELECT status FROM members WHERE id = ?`, id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Errorf(domain.ENOTFOUND, "member %d not found", id)
	} else if err != nil {
		return err
	}
	switch status {
	case domain.MemberActive:
		return nil
	case domain.MemberPending:
		return domain.Errorf(domain.EFORBIDDEN, "member %d is waiting for a leader to activate her registration", id)
	default:
		return domain.Errorf(domain.EFORBIDDEN, "member %d is inactive; a leader can reactivate her", id)
	}
}

const assignmentCols = `a.id, a.task_id, a.member_id, a.quantity, a.reported, a.created_at`

func scanAssignment(row scanner, withTask bool) (*domain.Assignment, error) {
	var a domain.Assignment
	var created string
	dest := []any{&a.ID, &a.TaskID, &a.MemberID, &a.Quantity, &a.Reported, &created}
	var t domain.Task
	var titles, tcreated string
	var deadline sql.NullString
	if withTask {
		dest = append(dest, &t.ID, &titles, &t.Kind, &t.RateMinor, &t.Quantity, &t.Free, &deadline, &t.WorkshopID, &t.Status, &tcreated)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	a.CreatedAt = parseTime(created)
	if withTask {
		if err := json.Unmarshal([]byte(titles), &t.Titles); err != nil {
			return nil, err
		}
		t.Deadline, t.CreatedAt = parseTimePtr(deadline), parseTime(tcreated)
		a.Task = &t
	}
	return &a, nil
}

const taskColsT = `t.id, t.titles, t.kind, t.rate_minor, t.quantity, t.free, t.deadline, COALESCE(t.workshop_id, 0), t.status, t.created_at`

// AssignmentsByMember lists a member's assignments newest first.
func (s *TaskService) AssignmentsByMember(ctx context.Context, memberID int64, all bool) ([]*domain.Assignment, error) {
	q := `SELECT ` + assignmentCols + `, ` + taskColsT + ` FROM assignments a JOIN tasks t ON t.id = a.task_id WHERE a.member_id = ?`
	if !all {
		q += ` AND a.reported < a.quantity`
	}
	return list(ctx, s.db.r, q+` ORDER BY a.id DESC LIMIT 200`, []any{memberID}, func(r scanner) (*domain.Assignment, error) { return scanAssignment(r, true) })
}

// AssignmentByID returns one assignment with its task.
func (s *TaskService) AssignmentByID(ctx context.Context, id int64) (*domain.Assignment, error) {
	a, err := scanAssignment(s.db.r.QueryRowContext(ctx, `SELECT `+assignmentCols+`, `+taskColsT+` FROM assignments a JOIN tasks t ON t.id = a.task_id WHERE a.id = ?`, id), true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, domain.Errorf(domain.ENOTFOUND, "assignment %d not found", id)
	}
	return a, err
}

// ReportWork records units done on an assignment.
func (s *TaskService) ReportWork(ctx context.Context, memberID, assignmentID, qty int64) (*domain.WorkReport, error) {
	if qty <= 0 {
		return nil, domain.Errorf(domain.EINVALID, "quantity: must be at least 1, not %d", qty)
	}
	now := s.db.now()
	r := &domain.WorkReport{AssignmentID: assignmentID, MemberID: memberID, Quantity: qty, Status: domain.ReportPending, CreatedAt: now}
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE assignments SET reported = reported + ? WHERE id = ? AND member_id = ? AND reported + ? <= quantity`,
			qty, assignmentID, memberID, qty)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var owner, quantity, reported int64
			err := tx.QueryRowContext(ctx, `SELECT member_id, quantity, reported FROM assignments WHERE id = ?`, assignmentID).Scan(&owner, &quantity, &reported)
			if errors.Is(err, sql.ErrNoRows) || owner != memberID {
				return domain.Errorf(domain.ENOTFOUND, "assignment %d not found for member %d", assignmentID, memberID)
			} else if err != nil {
				return err
			}
			return domain.Errorf(domain.EINVALID, "quantity: you can report at most %d more on this assignment (accepted %d, reported %d)", quantity-reported, quantity, reported)
		}
		var rate int64
		if err := tx.QueryRowContext(ctx, `SELECT t.id, t.rate_minor FROM assignments a JOIN tasks t ON t.id = a.task_id WHERE a.id = ?`, assignmentID).Scan(&r.TaskID, &rate); err != nil {
			return err
		}
		r.AmountMinor = rate * qty
		return insertID(ctx, tx, &r.ID, `INSERT INTO work_reports (assignment_id, task_id, member_id, quantity, amount_minor, status, created_at)
			VALUES (?, ?, ?, ?, ?, 'pending', ?)`, assignmentID, r.TaskID, memberID, qty, r.AmountMinor, fmtTime(now))
	})
	if err != nil {
		return nil, fmt.Errorf("report work on assignment %d: %w", assignmentID, err)
	}
	return r, nil
}

const reportCols = `id, assignment_id, task_id, member_id, quantity, amount_minor, status, reason, created_at, decided_at, decided_by`

func scanReport(row scanner) (*domain.WorkReport, error) {
	var r domain.WorkReport
	var created string
	var decided sql.NullString
	if err := row.Scan(&r.ID, &r.AssignmentID, &r.TaskID, &r.MemberID, &r.Quantity, &r.AmountMinor, &r.Status, &r.Reason, &created, &decided, &r.DecidedBy); err != nil {
		return nil, err
	}
	r.CreatedAt, r.DecidedAt = parseTime(created), parseTimePtr(decided)
	return &r, nil
}

// FindWorkReports lists work reports newest first.
func (s *TaskService) FindWorkReports(ctx context.Context, f domain.WorkReportFilter) ([]*domain.WorkReport, string, error) {
	before, err := parseCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	lim := limit(f.Limit)
	var w where
	w.add(before > 0, `id < ?`, before)
	w.add(f.Status != "", `status = ?`, f.Status)
	w.add(f.MemberID != 0, `member_id = ?`, f.MemberID)
	q, args := `SELECT `+reportCols+` FROM work_reports`+w.String(), w.args
	return page(ctx, s.db.r, q+` ORDER BY id DESC LIMIT ?`, append(args, lim), lim, scanReport, func(v *domain.WorkReport) int64 { return v.ID })
}

// WorkReportByID returns one work report.
func (s *TaskService) WorkReportByID(ctx context.Context, id int64) (*domain.WorkReport, error) {
	return reportByID(ctx, s.db.r, id)
}

func reportByID(ctx context.Context, q queryRower, id int64) (*domain.WorkReport, error) {
	r, err := scanReport(q.QueryRowContext(ctx, `SELECT `+reportCols+` FROM work_reports WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, domain.Errorf(domain.ENOTFOUND, "work report %d not found", id)
	}
	return r, err
}

// decide moves a pending report to status; the WHERE makes a second
// decision on the same report fail instead of paying twice.
func (s *TaskService) decide(ctx context.Context, tx *sql.Tx, id int64, status, by, reason string) (*domain.WorkReport, error) {
	now := s.db.now()
	res, err := tx.ExecContext(ctx, `UPDATE work_reports SET status = ?, reason = ?, decided_at = ?, decided_by = ? WHERE id = ? AND status = 'pending'`,
		status, reason, fmtTime(now), by, id)
	if err != nil {
		return nil, err
	}
	n, _ := res.RowsAffected()
	r, err := reportByID(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, domain.Errorf(domain.ECONFLICT, "work report %d was already %s", id, r.Status)
	}
	return r, nil
}

// ApproveWork approves a report and books its earning.
func (s *TaskService) ApproveWork(ctx context.Context, id int64, by string) (*domain.WorkReport, error) {
	var r *domain.WorkReport
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		var err error
		if r, err = s.decide(ctx, tx, id, domain.ReportApproved, by, ""); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO ledger (member_id, kind, amount_minor, work_report_id, note, created_by, created_at) VALUES (?, 'earning', ?, ?, ?, ?, ?)`,
			r.MemberID, r.AmountMinor, r.ID, fmt.Sprintf("%d pieces, task %d", r.Quantity, r.TaskID), by, fmtTime(s.db.now()))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("approve work report %d: %w", id, err)
	}
	return r, nil
}

// RejectWork rejects a report and frees its units to be reported again.
func (s *TaskService) RejectWork(ctx context.Context, id int64, by, reason string) (*domain.WorkReport, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, domain.Errorf(domain.EINVALID, "reason: say why the work is rejected, so the worker knows what to fix")
	}
	var r *domain.WorkReport
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		var err error
		if r, err = s.decide(ctx, tx, id, domain.ReportRejected, by, reason); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE assignments SET reported = reported - ? WHERE id = ?`, r.Quantity, r.AssignmentID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reject work report %d: %w", id, err)
	}
	return r, nil
}
