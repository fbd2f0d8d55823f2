package web

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/internal/eventdb"
	"github.com/gateledger/gateledger/web/problem"
)

// readiness polls /readyz until it answers want, and returns its checks.
func (w *world) readiness(want int) map[string]string {
	w.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		a := w.do(req{method: "GET", path: "/readyz"})
		var body struct{ Checks map[string]string }
		_ = json.Unmarshal(a.body, &body)
		if a.status == want {
			return body.Checks
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("readyz answered %d, not %d, for 20 s: %s", a.status, want, a.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAFullDiskAnswers503AndResumesByItself: while the store's disk is full, commands
// answer 503 storage-full and /readyz is not ready; nothing acknowledged is lost; once
// space is freed, readiness and commands come back without a restart. The full disk is
// a fault injected where the store commits, as ENOSPC from the file system.
func TestAFullDiskAnswers503AndResumesByItself(t *testing.T) {
	w := newWorld(t, nil)
	w.receive("A1234BC", "mdi", "MDI")
	if c := w.readiness(http.StatusOK); c["writes"] != "ok" {
		t.Fatalf("checks %v", c)
	}
	db := w.store.Node.DB
	db.SetCommitFault(func() error { return &os.PathError{Op: "write", Path: eventdb.FileName, Err: syscall.ENOSPC} })

	second := req{method: "POST", path: "/v1/journeys/A2345BC/receptions", as: "lei",
		body: map[string]any{"kind": "SENTENCE", "prison": "LEI", "at": ago(24 * time.Hour)}, header: map[string]string{"Idempotency-Key": "second-1"}}
	a := w.do(second)
	p := a.problem(t, problem.StorageFull)
	if a.header.Get("Retry-After") == "" || p.Detail == "" {
		t.Fatalf("no Retry-After or detail: %v %+v", a.header, p)
	}
	if c := w.readiness(http.StatusServiceUnavailable); c["writes"] != "disk full" || c["store"] != "ok" {
		t.Fatalf("readyz checks on a full disk: %v", c)
	}
	// A read records the access before it answers, so it cannot be served either.
	if a := w.do(req{method: "GET", path: "/v1/journeys/A1234BC", as: "mdi"}); a.status != http.StatusServiceUnavailable {
		t.Fatalf("a read on a full disk answered %d: %s", a.status, a.body)
	}

	db.SetCommitFault(nil) // space freed
	if c := w.readiness(http.StatusOK); c["writes"] != "ok" {
		t.Fatalf("checks after space was freed: %v", c)
	}
	w.do(second).ok(t, http.StatusCreated)
	w.do(second).ok(t, http.StatusCreated) // the retry is answered as the first, recorded once
	// Each journey holds exactly its one reception: the one acknowledged before the
	// disk filled, and the one refused then and recorded once after.
	for _, noms := range []string{"A1234BC", "A2345BC"} {
		js := w.do(req{method: "GET", path: "/v1/journeys/" + noms, as: "inspector"}).ok(t, http.StatusOK).json(t)
		if got := js["revision"]; got != float64(0) {
			t.Fatalf("%s is at revision %v after the full disk, want 0: %v", noms, got, js)
		}
	}
}

// TestATombstonedJourneyIsGone: a journey whose stream was hard-deleted in the store
// answers 410 gone, to reads and commands alike, instead of 500.
func TestATombstonedJourneyIsGone(t *testing.T) {
	w := newWorld(t, nil)
	w.receive("A1234BC", "mdi", "MDI")
	if _, err := w.store.Node.DB.Tombstone(context.Background(), aggregates.StreamName("A1234BC"), eventdb.Any); err != nil {
		t.Fatal(err)
	}
	w.do(req{method: "GET", path: "/v1/journeys/A1234BC", as: "inspector"}).problem(t, problem.Gone)
	w.do(req{method: "GET", path: "/v1/journeys/A1234BC/plan", as: "mdi"}).problem(t, problem.Gone)
	w.do(req{method: "POST", path: "/v1/journeys/A1234BC/movements", as: "mdi",
		body: map[string]any{"kind": "COURT_OUT", "prison": "MDI", "at": ago(time.Hour)}}).problem(t, problem.Gone)
}
