package problem

import (
	"net/http"
	"testing"

	"github.com/gateledger/gateledger/journeys"
)

// A command sent without If-Match that gave up after repeated conflicts is 409
// concurrent-modification, as documented, although the last conflict it wraps is
// a mismatch with the revision the server pinned itself; a mismatch with the
// caller's If-Match is 412.
func TestConflictAfterRetriesIs409(t *testing.T) {
	gaveUp := &journeys.ConflictError{NOMS: "A1234BC", Attempts: 5,
		Err: &journeys.RevisionMismatchError{NOMS: "A1234BC", Expected: 6, Current: 8}}
	if status := Of(gaveUp).Kind.Status; status != http.StatusConflict {
		t.Errorf("gave up after conflicts: %d, want 409", status)
	}
	if status := Of(&journeys.RevisionMismatchError{NOMS: "A1234BC", Expected: 6, Current: 8}).Kind.Status; status != http.StatusPreconditionFailed {
		t.Errorf("If-Match mismatch: %d, want 412", status)
	}
}
