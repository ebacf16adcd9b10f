package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"
	"sync/atomic"

	"modernc.org/sqlite"
)

// Parsing SQL is most of what SQLite spends on a short statement: profiling
// the inbound SMS path showed sqlite3_prepare at a third of all CPU. The
// connections here keep each statement they have prepared, by its text, and
// reuse it; the storage code keeps writing plain tx.ExecContext(query, ...).

// maxCachedStmts bounds a connection's cache; queries are fixed strings in
// this package, so it is never reached in practice.
const maxCachedStmts = 256

type cachingConnector struct {
	dsn    string
	drv    *sqlite.Driver
	detach bool
	// rolledBack, when set, is raised whenever SQLite rolls back a
	// transaction on a connection of this pool, by request or by itself.
	rolledBack *atomic.Bool
}

func (c *cachingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	if c.rolledBack != nil {
		h, ok := conn.(sqlite.HookRegisterer)
		if !ok {
			conn.Close()
			return nil, errors.New("open database: the sqlite driver cannot report rollbacks")
		}
		flag := c.rolledBack
		h.RegisterRollbackHook(func() { flag.Store(true) })
	}
	return &cachingConn{Conn: conn, stmts: map[string]*cachedStmt{}, detach: c.detach}, nil
}

func (c *cachingConnector) Driver() driver.Driver { return c.drv }

// openCached opens a pool of caching connections. detach makes its
// statements ignore their context's cancellation once started: SQLite
// answers an interrupted INSERT or UPDATE by rolling back the whole
// transaction, and on the write connection that transaction carries other
// callers' writes. database/sql still refuses to start a statement for a
// context already done.
func openCached(dsn string, detach bool, rolledBack *atomic.Bool) *sql.DB {
	return sql.OpenDB(&cachingConnector{dsn: dsn, drv: &sqlite.Driver{}, detach: detach, rolledBack: rolledBack})
}

type cachedStmt struct {
	stmt  driver.Stmt
	inUse bool // rows from it are still open
}

// cachingConn wraps a modernc connection. database/sql uses a connection
// from one goroutine at a time, so the cache needs no lock.
type cachingConn struct {
	driver.Conn
	stmts  map[string]*cachedStmt
	detach bool
}

// cacheable reports whether a query is one statement worth keeping.
func cacheable(q string) bool {
	q = strings.TrimSpace(q)
	if strings.Contains(strings.TrimSuffix(q, ";"), ";") {
		return false // a script, as in migrations
	}
	u := strings.ToUpper(q[:min(len(q), 8)])
	for _, p := range []string{"BEGIN", "COMMIT", "PRAGMA", "VACUUM", "CREATE", "DROP", "ALTER"} {
		if strings.HasPrefix(u, p[:min(len(p), 8)]) {
			return false
		}
	}
	return true
}

func (c *cachingConn) get(ctx context.Context, q string) (*cachedStmt, error) {
	if cs := c.stmts[q]; cs != nil {
		return cs, nil
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil, nil
	}
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	cs := &cachedStmt{stmt: st}
	c.stmts[q] = cs
	return cs, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	if c.detach {
		ctx = context.Background()
	}
	if cacheable(q) {
		cs, err := c.get(ctx, q)
		if err != nil {
			return nil, err
		}
		if cs != nil && !cs.inUse {
			return cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
		}
	}
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	if c.detach {
		ctx = context.Background()
	}
	if cacheable(q) {
		cs, err := c.get(ctx, q)
		if err != nil {
			return nil, err
		}
		if cs != nil && !cs.inUse {
			rows, err := cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
			if err != nil {
				return nil, err
			}
			cs.inUse = true
			return &cachedRows{Rows: rows, cs: cs}, nil
		}
	}
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

func (c *cachingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *cachingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *cachingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *cachingConn) Close() error {
	var errs []error
	for q, cs := range c.stmts {
		errs = append(errs, cs.stmt.Close())
		delete(c.stmts, q)
	}
	errs = append(errs, c.Conn.Close())
	return errors.Join(errs...)
}

// cachedRows frees its statement for reuse when closed.
type cachedRows struct {
	driver.Rows
	cs *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.cs.inUse = false
	return err
}
