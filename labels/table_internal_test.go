package labels

import (
	"testing"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/projections"
)

// TestEveryEventTypeInTable: the table, not the fallback, names every event
// type the ledger writes.
func TestEveryEventTypeInTable(t *testing.T) {
	for _, et := range aggregates.EventTypes() {
		if _, ok := table[eventType(et)]; !ok {
			t.Errorf("event type %s has no label", et)
		}
	}
}

// TestEveryAttentionReasonInTable: every reason the caseload names has its
// own label.
func TestEveryAttentionReasonInTable(t *testing.T) {
	reasons := projections.Attention(1<<16 - 1).Reasons()
	if len(reasons) < 11 {
		t.Fatalf("only %d reasons", len(reasons))
	}
	for _, r := range reasons {
		if projections.AttentionLabel(r) == r {
			t.Errorf("reason %s has no label", r)
		}
	}
}
