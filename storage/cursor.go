package storage

import (
	"strconv"

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
