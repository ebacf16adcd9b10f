package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/karyashala/karyashala/domain"
)

var _ domain.MemberService = (*MemberService)(nil)

// MemberService stores workers and leaders.
type MemberService struct{ db *DB }

// NewMemberService returns the member service on db.
func NewMemberService(db *DB) *MemberService { return &MemberService{db: db} }

const memberCols = `id, phone, name, lang, COALESCE(workshop_id, 0), role, status, created_at, updated_at`

func scanMember(row scanner) (*domain.Member, error) {
	var m domain.Member
	var created, updated string
	if err := row.Scan(&m.ID, &m.Phone, &m.Name, &m.Lang, &m.WorkshopID, &m.Role, &m.Status, &created, &updated); err != nil {
		return nil, err
	}
	m.CreatedAt, m.UpdatedAt = parseTime(created), parseTime(updated)
	return &m, nil
}

func (db *DB) checkLang(lang string) error {
	for _, l := range db.Languages {
		if l == lang {
			return nil
		}
	}
	return domain.Errorf(domain.EINVALID, "lang: %q is not one of the configured languages (%s)", lang, strings.Join(db.Languages, ", "))
}

// CreateMember adds a member.
func (s *MemberService) CreateMember(ctx context.Context, m *domain.Member) error {
	if m.Lang == "" {
		m.Lang = s.db.Languages[0]
	}
	if m.Role == "" {
		m.Role = domain.RoleWorker
	}
	if m.Status == "" {
		m.Status = domain.MemberActive
	}
	if err := m.Validate(); err != nil {
		return err
	}
	if err := s.db.checkLang(m.Lang); err != nil {
		return err
	}
	now := s.db.now()
	s.db.known.add(m.Phone)
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		if m.WorkshopID != 0 {
			if err := workshopExists(ctx, tx, m.WorkshopID); err != nil {
				return err
			}
		}
		return insertID(ctx, tx, &m.ID, `INSERT INTO members (phone, name, lang, workshop_id, role, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			m.Phone, m.Name, m.Lang, nullID(m.WorkshopID), m.Role, m.Status, fmtTime(now), fmtTime(now))
	})
	if isUnique(err) {
		return domain.Errorf(domain.ECONFLICT, "phone %s is already registered", domain.MaskPhone(m.Phone))
	} else if err != nil {
		return fmt.Errorf("create member: %w", err)
	}
	m.CreatedAt, m.UpdatedAt = now, now
	return nil
}

// Register signs a worker up from her own phone.
func (s *MemberService) Register(ctx context.Context, phone, name, lang string, workshopID int64, open bool) (*domain.Member, error) {
	status := domain.MemberPending
	if open {
		status = domain.MemberActive
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, domain.Errorf(domain.EINVALID, "name: required")
	}
	m := &domain.Member{Phone: phone, Name: name, Lang: lang, WorkshopID: workshopID, Role: domain.RoleWorker, Status: status}
	if err := s.CreateMember(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

// MemberByID returns one member.
func (s *MemberService) MemberByID(ctx context.Context, id int64) (*domain.Member, error) {
	return memberByID(ctx, s.db.r, id)
}

// memberByID reads a member from q, the read pool or the write transaction
// in hand.
func memberByID(ctx context.Context, q queryRower, id int64) (*domain.Member, error) {
	m, err := scanMember(q.QueryRowContext(ctx, `SELECT `+memberCols+` FROM members WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, domain.Errorf(domain.ENOTFOUND, "member %d not found", id)
	}
	return m, err
}

// MemberByPhone returns the member registered with phone, as the write
// transaction ctx runs inside (if any) sees it.
func (s *MemberService) MemberByPhone(ctx context.Context, phone string) (*domain.Member, error) {
	m, err := scanMember(s.db.reader(ctx).QueryRowContext(ctx, `SELECT `+memberCols+` FROM members WHERE phone = ?`, phone))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, domain.Errorf(domain.ENOTFOUND, "phone %s is not registered", domain.MaskPhone(phone))
	}
	return m, err
}

// FindMembers lists members oldest first.
func (s *MemberService) FindMembers(ctx context.Context, f domain.MemberFilter) ([]*domain.Member, string, error) {
	after, err := parseCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	lim := limit(f.Limit)
	var w where
	w.add(true, `id > ?`, after)
	w.add(f.Role != "", `role = ?`, f.Role)
	w.add(f.Status != "", `status = ?`, f.Status)
	q := `SELECT ` + memberCols + ` FROM members` + w.String() + ` ORDER BY id LIMIT ?`
	args := append(w.args, lim)
	return page(ctx, s.db.r, q, args, lim, scanMember, func(v *domain.Member) int64 { return v.ID })
}

// UpdateMember changes a member's fields. The member is read, changed and
// written back inside one write transaction: read outside it, a change
// committed meanwhile (another PATCH, a language chosen on the phone) would
// be overwritten with the old value of its column.
func (s *MemberService) UpdateMember(ctx context.Context, id int64, u domain.MemberUpdate) (*domain.Member, error) {
	if u.Lang != nil {
		if err := s.db.checkLang(*u.Lang); err != nil {
			return nil, err
		}
	}
	var m *domain.Member
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		var err error
		if m, err = memberByID(ctx, tx, id); err != nil {
			return err
		}
		if u.Name != nil {
			m.Name = strings.TrimSpace(*u.Name)
		}
		if u.Lang != nil {
			m.Lang = *u.Lang
		}
		if u.WorkshopID != nil {
			m.WorkshopID = *u.WorkshopID
		}
		if u.Role != nil {
			m.Role = *u.Role
		}
		if u.Status != nil {
			m.Status = *u.Status
		}
		if err := m.Validate(); err != nil {
			return err
		}
		if m.WorkshopID != 0 {
			if err := workshopExists(ctx, tx, m.WorkshopID); err != nil {
				return err
			}
		}
		m.UpdatedAt = s.db.now()
		_, err = tx.ExecContext(ctx, `UPDATE members SET name = ?, lang = ?, workshop_id = ?, role = ?, status = ?, updated_at = ? WHERE id = ?`,
			m.Name, m.Lang, nullID(m.WorkshopID), m.Role, m.Status, fmtTime(m.UpdatedAt), id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update member %d: %w", id, err)
	}
	return m, nil
}

// SetLanguage remembers a phone's language, and a member's too.
func (s *MemberService) SetLanguage(ctx context.Context, phone, lang string) error {
	if err := s.db.checkLang(lang); err != nil {
		return err
	}
	now := fmtTime(s.db.now())
	s.db.known.add(phone)
	return s.db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO phone_langs (phone, lang, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (phone) DO UPDATE SET lang = excluded.lang, updated_at = excluded.updated_at`, phone, lang, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE members SET lang = ?, updated_at = ? WHERE phone = ?`, lang, now, phone)
		return err
	})
}

// Language returns the phone's remembered language, or "": Caller's.
func (s *MemberService) Language(ctx context.Context, phone string) (string, error) {
	_, lang, err := s.Caller(ctx, phone)
	return lang, err
}

// Caller reads the phone's member, if any, and its remembered language in
// one statement: the language the phone chose, else the member's; as the
// write transaction ctx runs inside (if any) sees them.
func (s *MemberService) Caller(ctx context.Context, phone string) (*domain.Member, string, error) {
	if !s.db.known.mayHave(s.db.r, phone) {
		return nil, "", nil // neither a member nor a remembered language
	}
	var m domain.Member
	var created, updated, chosen string
	err := s.db.reader(ctx).QueryRowContext(ctx, `SELECT COALESCE(m.id, 0), COALESCE(m.phone, ''), COALESCE(m.name, ''), COALESCE(m.lang, ''),
			COALESCE(m.workshop_id, 0), COALESCE(m.role, ''), COALESCE(m.status, ''), COALESCE(m.created_at, ''), COALESCE(m.updated_at, ''),
			COALESCE((SELECT lang FROM phone_langs WHERE phone = p.phone), m.lang, '')
		FROM (SELECT ? AS phone) p LEFT JOIN members m ON m.phone = p.phone`, phone).
		Scan(&m.ID, &m.Phone, &m.Name, &m.Lang, &m.WorkshopID, &m.Role, &m.Status, &created, &updated, &chosen)
	if err != nil || m.ID == 0 {
		return nil, chosen, err
	}
	m.CreatedAt, m.UpdatedAt = parseTime(created), parseTime(updated)
	return &m, chosen, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// workshopExists and memberExists turn a dangling id into ENOTFOUND before
// a write refers to it; q is the transaction in hand or the read pool.
func workshopExists(ctx context.Context, q queryRower, id int64) error {
	return exists(ctx, q, `SELECT COUNT(*) FROM workshops WHERE id = ?`, id, "workshop")
}

func memberExists(ctx context.Context, q queryRower, id int64) error {
	return exists(ctx, q, `SELECT COUNT(*) FROM members WHERE id = ?`, id, "member")
}

func exists(ctx context.Context, q queryRower, query string, id int64, what string) error {
	var n int
	if err := q.QueryRowContext(ctx, query, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return domain.Errorf(domain.ENOTFOUND, "%s %d not found", what, id)
	}
	return nil
}

// knownPhones holds every phone number that may have a member or a
// remembered language: those stored when it was first used, and every one
// added since, before its write. Most callers the server has never heard of
// (a resident's first dial, a load test's random numbers) are then answered
// without a read, whose transaction on a connection whose page cache every
// commit elsewhere has emptied was a first hop's largest single cost. A
// number in the set may have nothing stored (a failed or undone write); that
// costs a read, never a wrong answer. Only the server writes members.
type knownPhones struct {
	once   sync.Once
	loaded bool // the stored numbers are in m
	mu     sync.RWMutex
	m      map[string]struct{}
}

// add puts phone in the set ahead of a write that may store it.
func (k *knownPhones) add(phone string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[phone]; ok {
		return
	}
	if k.m == nil {
		k.m = make(map[string]struct{})
	}
	k.m[strings.Clone(phone)] = struct{}{}
}

// mayHave reports whether phone may have a member or a language stored:
// true unless it is certainly absent. The first call reads the stored
// numbers from r; if that fails, every number may be stored.
func (k *knownPhones) mayHave(r *sql.DB, phone string) bool {
	k.once.Do(func() { k.load(r) })
	k.mu.RLock()
	defer k.mu.RUnlock()
	if !k.loaded {
		return true
	}
	_, ok := k.m[phone]
	return ok
}

func (k *knownPhones) load(r *sql.DB) {
	stored, err := queryStrings(context.Background(), r, `SELECT phone FROM members UNION SELECT phone FROM phone_langs`)
	if err != nil {
		slog.Warn("read known phone numbers; every caller will be looked up", "err", err)
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = make(map[string]struct{}, len(stored))
	}
	for _, p := range stored {
		k.m[p] = struct{}{}
	}
	k.loaded = true
}
