package simulate

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/internal/journeygen"
)

// TestEveryGeneratedStepHasARequest: every step of a few hundred generated people
// becomes a request, API commands go to a sender the ledger's authorisation allows,
// and the same seed gives the same requests.
func TestEveryGeneratedStepHasARequest(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	build := func() [][]byte {
		s := &sim{cfg: Config{Seed: 42, Now: func() time.Time { return now }}, gen: journeygen.New(42, now, 2*365*24*time.Hour, aggregates.DefaultPolicy(nil))}
		var all [][]byte
		for i := 0; i < 300; i++ {
			j := s.gen.Journey(1_000_000 + i)
			var state aggregates.Journey
			for k, st := range j.Steps {
				req, err := s.request(j.NOMS, k, st, state)
				if err != nil {
					t.Fatalf("%s step %d (%T): %v", j.NOMS, k, st.Command, err)
				}
				if !json.Valid(req.body) {
					t.Fatalf("%s step %d: body %s", j.NOMS, k, req.body)
				}
				if !req.feed {
					p := auth.Principal{ID: "x", Role: auth.Role(req.role), Org: req.org}
					if err := auth.CanCommand(p, state, st.Command); err != nil {
						t.Fatalf("%s step %d (%T) sent by %s %s: %v", j.NOMS, k, st.Command, req.role, req.org, err)
					}
				} else if req.path != "/v1/feeds/hmpps" || req.role != "feed" {
					t.Fatalf("feed request %+v", req)
				}
				all = append(all, append([]byte(req.path+" "+req.role+" "+req.org+" "), req.body...))
				for _, ev := range st.Events {
					aggregates.Fold(&state, ev)
				}
			}
		}
		return all
	}
	a, b := build(), build()
	if len(a) != len(b) {
		t.Fatalf("two builds with one seed: %d and %d requests", len(a), len(b))
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("request %d differs between two builds with one seed:\n%s\n%s", i, a[i], b[i])
		}
	}
}

func TestCountEvents(t *testing.T) {
	tests := []struct {
		body string
		want int
	}{
		{`{"events":[{},{}]}`, 2},
		{`{"commands":[{"events":1},{"events":2,"duplicate":true},{"events":3}]}`, 4},
		{`{"disposition":"ignored","commands":[]}`, 0},
		{`not json`, 0},
	}
	for _, tc := range tests {
		if got := countEvents([]byte(tc.body)); got != tc.want {
			t.Errorf("countEvents(%s) = %d, want %d", tc.body, got, tc.want)
		}
	}
}
