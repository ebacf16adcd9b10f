package storage

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/karyashala/karyashala/domain"
)

// The queries that run for every message find their rows through an index
// made for them, never by scanning the messages table, which only grows.
func TestHotQueriesUseTheirIndexes(t *testing.T) {
	db := openTest(t)
	cases := []struct {
		query string
		index string
		sorts bool // sorting the rows found is fine: they are one phone's few
	}{
		{claimQuery, "messages_queued", false},
		{`SELECT ` + messageCols + unhandled + ` ORDER BY id LIMIT ?`, "messages_unhandled", false},
		{outboundByCarrierID, "messages_out_provider", false},
		{failQueuedTo, "messages_queued", false},
	}
	for _, c := range cases {
		args := make([]any, strings.Count(c.query, "?"))
		for i := range args {
			args[i] = i
		}
		rows, err := db.r.Query(`EXPLAIN QUERY PLAN `+c.query, args...)
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		joined := strings.Join(plan, "; ")
		if !strings.Contains(joined, "INDEX "+c.index) || !c.sorts && strings.Contains(joined, "TEMP B-TREE") {
			t.Errorf("%s\nplan: %s\nwant it to use %s without sorting", c.query, joined, c.index)
		}
	}
}

// BenchmarkMessagesOfAPhone is the console's look at a reporter's messages
// once the messages table has no phone index: a scan, newest first, of a
// table of 1,000,000 messages where the phone has 3.
func BenchmarkMessagesOfAPhone(b *testing.B) {
	db := openTest(b)
	tx, err := db.w.Begin()
	if err != nil {
		b.Fatal(err)
	}
	const n = 1_000_000
	for i := range n {
		phone := fmt.Sprintf("+9197%08d", i)
		if i%(n/3) == 7 {
			phone = "+919800000042"
		}
		if _, err := tx.Exec(`INSERT INTO messages (direction, provider, provider_id, phone, text, status, created_at, updated_at, handled_at)
			VALUES ('in', 'bench', ?, ?, 'COMPLAINT water leak near block 4', 'received', 'x', 'x', 'x')`, fmt.Sprint(i), phone); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	ms := NewMessageService(db)
	b.ResetTimer()
	for range b.N {
		got, _, err := ms.FindMessages(context.Background(), domain.MessageFilter{Phone: "+919800000042", Limit: 200})
		if err != nil || len(got) != 3 {
			b.Fatalf("%d messages, %v", len(got), err)
		}
	}
}
