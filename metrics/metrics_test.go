package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Inc and Add keep each event's counter once found; what they count must
// still be what /metrics reads from the vector.
func TestEventCountersAreTheVectors(t *testing.T) {
	Inc("test_event")
	Inc("test_event")
	Add("test_event", 3)
	Inc("other_test_event")
	if got := testutil.ToFloat64(Events.WithLabelValues("test_event")); got != 5 {
		t.Fatalf("test_event = %v, want 5", got)
	}
	if got := testutil.ToFloat64(Events.WithLabelValues("other_test_event")); got != 1 {
		t.Fatalf("other_test_event = %v, want 1", got)
	}
}
