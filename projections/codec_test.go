package projections

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/folds"
	"github.com/gateledger/gateledger/internal/journeygen"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// The binary plan state reads back exactly what the JSON it replaced did, for the
// final states of generated journeys.
func TestPlanStateRoundTripsLikeJSON(t *testing.T) {
	g := journeygen.New(5, time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), 4*365*24*time.Hour, testPolicy())
	for i := range 300 {
		j := g.Journey(i).Final
		sp := storedPlanOf(&j, uint64(1000+i), uint64(i), aggregates.DefaultPolicy(nil))
		got, err := decodePlanState(sp.appendTo(nil))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(sp)
		var want storedPlan
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("journey %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	if _, err := decodePlanState([]byte{planStateVersion, 200}); err == nil {
		t.Fatal("a truncated row decodes")
	}
}

// Any stored hash text reads back exactly, whether kept as bytes or as text.
func TestAuditHashesRoundTrip(t *testing.T) {
	for _, h := range []string{"", strings.Repeat("ab", 32), strings.Repeat("AB", 32), strings.Repeat("a", 63),
		strings.Repeat("g", 64), "not a hash", strings.Repeat("0f", 32)} {
		w := appendHash(readmodel.Writer{9}, h)
		r := readmodel.Reader{B: w[1:]}
		if got := readHash(&r); got != h || r.Err != nil || len(r.B) != 0 || w[0] != 9 {
			t.Errorf("%q read back as %q (%v, %d left)", h, got, r.Err, len(r.B))
		}
		if (len(h) == 64 && h == strings.ToLower(h) && !strings.Contains(h, "g")) != (w[1] == hashRaw) {
			t.Errorf("%q stored with tag %d", h, w[1])
		}
	}
	ev := readmodel.Event{Decoded: folds.Decoded{Envelope: eventlog.Metadata{Metadata: aggregates.Metadata{UserID: "u", CorrelationID: "c", RecordedAt: time.Unix(5, 0).UTC()}}}}
	ev.Envelope.Hash = strings.Repeat("ab", 32)
	e, err := decodeAudit("s", appendAudit(nil, &ev))
	if err != nil || e.Hash != ev.Envelope.Hash || e.UserID != "u" || e.CorrelationID != "c" || !e.RecordedAt.Equal(time.Unix(5, 0)) {
		t.Fatalf("row read back as %+v, %v", e, err)
	}
}
