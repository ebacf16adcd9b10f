package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"

	"github.com/karyashala/karyashala/domain"
)

// inboundIndex finds a stored inbound message by its carrier's id, so that
// a redelivered callback is stored once. It replaces the unique index on
// (direction, provider, provider_id) the table had: carriers' ids are
// random (Africa's Talking's ATXid_ and Twilio's SM are hex), so each
// message put its entry on a page of its own in that b-tree, and once the
// index outgrew a batch every message wrote one more 4 KB page to the WAL
// (and to the checkpoint) than its row. Under a flood with such ids the
// server stored 10,600-15,900 messages a second with that index and
// 22,000-25,400 with this one (docs/performance.md, session 7).
//
// ids maps a 64-bit hash of provider and id to the message's row id; more
// holds, by the full key, the few messages whose hash an earlier one
// already had. Neither is trusted alone: a hit is read back in the
// writer's transaction and counts only if the row has the same provider
// and id, so an entry whose row was rolled back (its id then given to
// another row), or another key's under the same hash, costs a read and
// never a lost message. Entries are added only by write jobs, which run
// one at a time on the writer; mu keeps it safe for any caller all the
// same. An entry costs 24-38 bytes, 38 MB for a million messages, read
// from the table by ReadIndexes when the server starts (else by the first
// inbound message stored).
type inboundIndex struct {
	once sync.Once
	err  error
	mu   sync.Mutex
	seed maphash.Seed
	ids  map[uint64]int64
	more map[string]int64
	sum  func(string) uint64 // tests' stand-in for the hash
}

// hash is safe without mu: seed is set once, when the index is read.
func (idx *inboundIndex) hash(key string) uint64 {
	if idx.sum != nil {
		return idx.sum(key)
	}
	return maphash.String(idx.seed, key)
}

// inbound returns db's inbound index, reading it from the table the first
// time (not under any caller's context; see DB.sessions).
func (db *DB) inbound() (*inboundIndex, error) {
	idx := &db.inboundIdx
	idx.once.Do(func() { idx.err = idx.load(context.Background(), db.r) })
	return idx, idx.err
}

// ReadIndexes reads the indexes the server keeps in memory (inbound
// message ids, USSD sessions) now, so that its first callbacks do not wait
// for them: a million inbound messages take about two seconds.
func (db *DB) ReadIndexes() error {
	if _, err := db.inbound(); err != nil {
		return err
	}
	_, err := db.sessions()
	return err
}

func (idx *inboundIndex) load(ctx context.Context, r *sql.DB) error {
	idx.seed = maphash.MakeSeed()
	idx.ids, idx.more = make(map[uint64]int64), make(map[string]int64)
	rows, err := r.QueryContext(ctx, `SELECT id, provider, provider_id FROM messages WHERE direction = 'in' AND provider_id IS NOT NULL ORDER BY id`)
	if err != nil {
		return fmt.Errorf("read inbound message ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var provider, providerID string
		if err := rows.Scan(&id, &provider, &providerID); err != nil {
			return fmt.Errorf("read inbound message ids: %w", err)
		}
		// Rows are unique by key (the unique index held until the
		// migration that dropped it, this index since), so a hash seen
		// before is another key's.
		slot := idx.slot(provider, providerID)
		_, slot.taken = idx.ids[slot.h]
		idx.add(slot, id)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read inbound message ids: %w", err)
	}
	return nil
}

// inboundSlot is where a carrier's id goes in the index: its key (provider
// and id), the key's hash, and whether another key's row, still in the
// table, holds that hash (the key then goes in more).
type inboundSlot struct {
	key   string
	h     uint64
	taken bool
}

func (idx *inboundIndex) slot(provider, providerID string) inboundSlot {
	key := provider + "\x00" + providerID
	return inboundSlot{key: key, h: idx.hash(key)}
}

// candidates returns the row ids recorded for s's key: under its hash, and
// by the key itself.
func (idx *inboundIndex) candidates(s inboundSlot) (byHash, byKey int64) {
	idx.mu.Lock()
	defer idx.mu.Unlock()
	return idx.ids[s.h], idx.more[s.key]
}

// add records id as the row of s's key: under its hash unless s.taken, by
// the key itself then.
func (idx *inboundIndex) add(s inboundSlot, id int64) {
	idx.mu.Lock()
	defer idx.mu.Unlock()
	if s.taken {
		idx.more[s.key] = id
		return
	}
	idx.ids[s.h] = id
}

// storedInbound returns the message stored for provider's id, read through
// q (the writer's transaction, or the read pool for a look without a
// write), or nil and the slot a new row for it goes in (see add).
func (idx *inboundIndex) storedInbound(ctx context.Context, q queryRower, provider, providerID string) (*domain.Message, inboundSlot, error) {
	slot := idx.slot(provider, providerID)
	byHash, byKey := idx.candidates(slot)
	for i, id := range []int64{byHash, byKey} {
		if id == 0 {
			continue
		}
		m, err := scanMessage(q.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, slot, err
		}
		if m.Direction == domain.DirIn && m.Provider == provider && m.ProviderID == providerID {
			return m, slot, nil
		}
		if i == 0 && m.Direction == domain.DirIn && m.ProviderID != "" {
			slot.taken = idx.slot(m.Provider, m.ProviderID).h == slot.h
		}
	}
	return nil, slot, nil
}
