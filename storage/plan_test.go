package storage

import (
	"strings"
	"testing"
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
		{`SELECT ` + messageCols + ` FROM messages INDEXED BY messages_unhandled WHERE direction = 'in' AND handled_at IS NULL ORDER BY id LIMIT ?`, "messages_unhandled", false},
		{`SELECT id FROM messages WHERE direction = 'in' AND provider = ? AND provider_id = ?`, "sqlite_autoindex_messages_1", false},
		{`SELECT id, phone, state, ended, updated_at FROM ussd_sessions WHERE phone = ? AND ended = 0 AND updated_at > ? ORDER BY updated_at DESC LIMIT 1`, "ussd_sessions_phone", true},
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
