package storage

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/karyashala/karyashala/domain"
)

// Cursors are the id of the last row of the previous page, as text, so lists
// page by primary key and stay stable while rows are added.
func parseCursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, domain.Errorf(domain.EINVALID, "cursor: %q is not a cursor from a previous page; omit it to start at the first page", s)
	}
	return n, nil
}

// nextCursor returns the cursor after the page, "" when the page was the last.
func nextCursor(n, lim int, lastID int64) string {
	if n < lim {
		return ""
	}
	return strconv.FormatInt(lastID, 10)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// list runs a query on db and scans every row with scan.
func list[T any](ctx context.Context, db *sql.DB, query string, args []any, scan func(scanner) (*T, error)) ([]*T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// page runs a list query whose last argument is its LIMIT, lim, and returns
// the rows with the cursor of the next page ("" after the last page); id is
// the cursor value of a row.
func page[T any](ctx context.Context, db *sql.DB, query string, args []any, lim int, scan func(scanner) (*T, error), id func(*T) int64) ([]*T, string, error) {
	out, err := list(ctx, db, query, args, scan)
	if err != nil {
		return nil, "", err
	}
	var last int64
	if len(out) > 0 {
		last = id(out[len(out)-1])
	}
	return out, nextCursor(len(out), lim, last), nil
}

// where builds the WHERE clause of a list query from the filters a caller
// set, so every list writes its conditions the same way.
type where struct {
	conds []string
	args  []any
}

// add appends cond (with one "?" for arg) when set.
func (w *where) add(set bool, cond string, arg any) {
	if set {
		w.conds = append(w.conds, cond)
		w.args = append(w.args, arg)
	}
}

// String is " WHERE a AND b", or "" when nothing was added.
func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}
