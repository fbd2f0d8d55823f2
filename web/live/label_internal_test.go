package live

import (
	"encoding/json"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/gateledger/gateledger/eventlog"
)

// TestEventFrameLabel: an event message says what happened in words, for
// announcements ("CRN linked", not "crnlinked").
func TestEventFrameLabel(t *testing.T) {
	for typ, want := range map[string]string{"CRNLinked": "CRN linked", "MAPPALevelSet": "MAPPA level set", "ReleaseAreaChanged": "Release area changed"} {
		ev := &esdb.RecordedEvent{EventID: uuid.New(), EventType: typ, StreamID: "journey-A1234BC"}
		var m EventMessage
		if err := json.Unmarshal(eventFrame(ev, "A1234BC", eventlog.Metadata{}), &m); err != nil {
			t.Fatal(err)
		}
		if m.Label != want || m.EventType != typ {
			t.Errorf("%s: label %q, want %q", typ, m.Label, want)
		}
	}
}
