package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/web/problem"
)

// feedRelease is a bare release of noms, a movement the ledger maps.
func feedRelease(noms, at string) string {
	return fmt.Sprintf(`{"eventType":"prison-offender-events.prisoner.released","occurredAt":%q,"additionalInformation":{"nomsNumber":%q,"reason":"RELEASED","prisonId":"MDI","nomisMovementReasonCode":"NCS"}}`, at, noms)
}

func feedUnknown(noms, at string) string {
	return fmt.Sprintf(`{"eventType":"prison-offender-events.prisoner.released","occurredAt":%q,"additionalInformation":{"nomsNumber":%q,"reason":"UNKNOWN","prisonId":"MDI","nomisMovementReasonCode":"ZZ"}}`, at, noms)
}

type listAnswer struct {
	DeadLetters []map[string]any `json:"deadLetters"`
	Total       int              `json:"total"`
	Counts      map[string]int   `json:"counts"`
	Next        string           `json:"next"`
}

// TestDeadLettersAPI: who may read and work the queue; filters and pages;
// one letter with its message; redrive and discard through the API, each a
// recorded step; the feed answer says whether a message was already applied.
func TestDeadLettersAPI(t *testing.T) {
	w := newWorld(t, nil)
	feed := func(body string, want int) map[string]any {
		t.Helper()
		return w.do(req{method: "POST", path: "/v1/feeds/hmpps", as: "feed", body: body}).ok(t, want).json(t)
	}
	// Given two releases before their receptions and an unknown movement code,
	// The same message twice is the same bytes: one moment, read once.
	releasedAt := ago(30 * time.Hour)
	a := feed(feedRelease("A1111AA", releasedAt), http.StatusAccepted)
	feed(feedRelease("B2222BB", ago(30*time.Hour)), http.StatusAccepted)
	u := feed(feedUnknown("A1111AA", ago(29*time.Hour)), http.StatusAccepted)
	// the same release delivered again is the same letter, seen twice.
	again := feed(feedRelease("A1111AA", releasedAt), http.StatusAccepted)
	ref := func(m map[string]any) string { return m["deadLetter"].(map[string]any)["eventId"].(string) }
	if ref(again) != ref(a) || again["deadLetter"].(map[string]any)["attempts"].(float64) != 2 || again["alreadyApplied"] != false {
		t.Fatalf("redelivery %v", again)
	}
	relA, unknown := ref(a), ref(u)

	t.Run("who may read and work it", func(t *testing.T) {
		paths := []req{
			{method: "GET", path: "/v1/dead-letters"},
			{method: "GET", path: "/v1/dead-letters/" + relA},
			{method: "POST", path: "/v1/dead-letters/redrive", body: map[string]any{}},
			{method: "POST", path: "/v1/dead-letters/" + relA + "/redrive"},
			{method: "POST", path: "/v1/dead-letters/" + relA + "/discard", body: map[string]any{"reason": "no"}},
		}
		for _, who := range []string{"mdi", "c05", "feed", "inspector"} {
			for i, r := range paths {
				r.as = who
				got := w.do(r)
				reads := i < 2
				if who == "inspector" && reads {
					got.ok(t, http.StatusOK)
					continue
				}
				if got.status != http.StatusForbidden {
					t.Errorf("%s %s as %s: %d", r.method, r.path, who, got.status)
				}
			}
		}
		for _, r := range paths[:2] {
			r.as = ""
			w.do(r).problem(t, problem.Unauthenticated)
		}
		// Nothing was redriven or discarded by them.
		if l := w.do(req{method: "GET", path: "/v1/dead-letters/" + relA, as: "admin"}).ok(t, http.StatusOK).json(t); l["state"] != "open" {
			t.Fatalf("letter %v", l)
		}
	})

	t.Run("filters and pages", func(t *testing.T) {
		tests := []struct {
			query string
			total int
		}{
			{"", 3},
			{"?state=open", 3},
			{"?state=resolved", 0},
			{"?noms=A1111AA", 2},
			{"?reason=unmappable", 1},
			{"?reason=rejected&noms=B2222BB", 1},
		}
		for _, tt := range tests {
			var seen []string
			cursor := ""
			for range 5 {
				path := "/v1/dead-letters" + tt.query
				sep := "?"
				if strings.Contains(path, "?") {
					sep = "&"
				}
				path += sep + "limit=1"
				if cursor != "" {
					path += "&cursor=" + cursor
				}
				var l listAnswer
				if err := json.Unmarshal(w.do(req{method: "GET", path: path, as: "admin"}).ok(t, http.StatusOK).body, &l); err != nil {
					t.Fatal(err)
				}
				if l.Total != tt.total || l.Counts["open"] != 3 {
					t.Fatalf("%s: %+v", tt.query, l)
				}
				for _, d := range l.DeadLetters {
					seen = append(seen, d["id"].(string))
				}
				if cursor = l.Next; cursor == "" {
					break
				}
			}
			if len(seen) != tt.total || len(slices.Compact(slices.Clone(seen))) != tt.total {
				t.Errorf("%s: walked %v, want %d letters", tt.query, seen, tt.total)
			}
		}
		for _, bad := range []struct{ query, field string }{
			{"?state=closed", "state"}, {"?reason=bad", "reason"}, {"?noms=nope", "noms"}, {"?limit=0", "limit"},
			{"?limit=201", "limit"}, {"?cursor=xyz", "cursor"},
		} {
			p := w.do(req{method: "GET", path: "/v1/dead-letters" + bad.query, as: "admin"}).problem(t, problem.Validation)
			if len(p.Errors) != 1 || p.Errors[0].Field != bad.field {
				t.Errorf("%s: %+v", bad.query, p)
			}
		}
	})

	t.Run("one letter", func(t *testing.T) {
		d := w.do(req{method: "GET", path: "/v1/dead-letters/" + unknown, as: "inspector"}).ok(t, http.StatusOK).json(t)
		if d["movementCode"] != "ZZ" || d["reason"] != "unmappable" || !strings.Contains(d["explanation"].(string), "ZZ") ||
			!strings.Contains(d["message"].(string), `"UNKNOWN"`) || d["attempts"].(float64) != 1 || d["firstSeen"] == nil || d["lastSeen"] == nil {
			t.Fatalf("letter %v", d)
		}
		d = w.do(req{method: "GET", path: "/v1/dead-letters/" + relA, as: "inspector"}).ok(t, http.StatusOK).json(t)
		if d["attempts"].(float64) != 2 || len(d["steps"].([]any)) != 2 || d["rule"] != "requires-reception" {
			t.Fatalf("letter %v", d)
		}
		w.do(req{method: "GET", path: "/v1/dead-letters/00000000-0000-4000-8000-000000000000", as: "admin"}).problem(t, problem.NotFound)
		w.do(req{method: "GET", path: "/v1/dead-letters/not-an-id", as: "admin"}).problem(t, problem.NotFound)
	})

	t.Run("redrive and discard", func(t *testing.T) {
		// A redrive before the reception leaves it open and records the try;
		rep := w.do(req{method: "POST", path: "/v1/dead-letters/" + relA + "/redrive", as: "admin"}).ok(t, http.StatusOK).json(t)
		if len(rep["resolved"].([]any)) != 0 || len(rep["remaining"].([]any)) != 1 {
			t.Fatalf("redrive %v", rep)
		}
		// once the reception is recorded, redriving the person applies it.
		w.do(req{method: "POST", path: "/v1/journeys/A1111AA/receptions", as: "mdi",
			body: map[string]any{"kind": "SENTENCE", "prison": "MDI", "at": ago(48 * time.Hour)}}).ok(t, http.StatusCreated)
		rep = w.do(req{method: "POST", path: "/v1/dead-letters/redrive", as: "admin", body: map[string]any{"noms": "A1111AA"}}).ok(t, http.StatusOK).json(t)
		if len(rep["resolved"].([]any)) != 1 || len(rep["remaining"].([]any)) != 1 {
			t.Fatalf("redrive %v", rep)
		}
		d := w.do(req{method: "GET", path: "/v1/dead-letters/" + relA, as: "admin"}).ok(t, http.StatusOK).json(t)
		if d["state"] != "resolved" || d["trigger"] != "manual" || !strings.HasPrefix(d["resolvedBy"].(string), "token:") {
			t.Fatalf("letter %v", d)
		}
		w.do(req{method: "POST", path: "/v1/dead-letters/" + relA + "/redrive", as: "admin"}).problem(t, problem.DeadLetterClosed)
		w.do(req{method: "POST", path: "/v1/dead-letters/" + relA + "/discard", as: "admin", body: map[string]any{"reason": "late"}}).problem(t, problem.DeadLetterClosed)

		// A discard needs a reason, and records it with who gave it.
		p := w.do(req{method: "POST", path: "/v1/dead-letters/" + unknown + "/discard", as: "admin", body: map[string]any{"reason": " "}}).problem(t, problem.Validation)
		if len(p.Errors) != 1 || p.Errors[0].Field != "reason" || !strings.Contains(p.Errors[0].Message, "Enter why") && !strings.Contains(p.Errors[0].Message, "enter why") {
			t.Fatalf("problem %+v", p)
		}
		w.do(req{method: "POST", path: "/v1/dead-letters/" + unknown + "/discard", as: "admin", body: map[string]any{}}).problem(t, problem.Validation)
		d = w.do(req{method: "POST", path: "/v1/dead-letters/" + unknown + "/discard", as: "admin",
			body: map[string]any{"reason": "An administrative merge; checked with MDI"}}).ok(t, http.StatusOK).json(t)
		if d["state"] != "discarded" || d["discardReason"] != "An administrative merge; checked with MDI" || d["discardedBy"] == "" {
			t.Fatalf("letter %v", d)
		}
		var l listAnswer
		_ = json.Unmarshal(w.do(req{method: "GET", path: "/v1/dead-letters", as: "admin"}).ok(t, http.StatusOK).body, &l)
		if l.Counts["open"] != 1 || l.Counts["resolved"] != 1 || l.Counts["discarded"] != 1 {
			t.Fatalf("counts %v", l.Counts)
		}
	})

	t.Run("the reads are in the access log", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := w.access.Close(ctx); err != nil {
			t.Fatal(err)
		}
		entries, err := w.access.Read(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var reads int
		for _, e := range entries {
			if e.What == auth.AccessReadDeadLetter && e.Subject == "A1111AA" && e.Role == auth.RoleInspector {
				reads++
			}
		}
		if reads == 0 {
			t.Fatalf("no inspector read of A1111AA's dead letter among %d entries", len(entries))
		}
	})

	// A message applied a second time says it was already applied.
	body, err := os.ReadFile("../hmpps/testdata/intake-event.json")
	if err != nil {
		t.Fatal(err)
	}
	intake := w.do(req{method: "POST", path: "/v1/feeds/hmpps", as: "feed", body: body}).ok(t, http.StatusOK).json(t)
	second := w.do(req{method: "POST", path: "/v1/feeds/hmpps", as: "feed", body: body}).ok(t, http.StatusOK).json(t)
	if intake["alreadyApplied"] != false || second["alreadyApplied"] != true {
		t.Fatalf("first %v, second %v", intake, second)
	}
}
