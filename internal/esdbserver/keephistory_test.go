package esdbserver_test

import (
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/internal/esdbserver"
)

// A stream that keeps its history refuses delete, tombstone and metadata that would
// hide events, with access denied and a message saying why; its other metadata, and
// every other stream, behave as on KurrentDB.
func TestKeepHistoryRefusesDeletionAndHidingMetadata(t *testing.T) {
	keep := func(s string) bool { return strings.HasPrefix(s, "journey-") }
	_, c := startNodeWith(t, esdbserver.NodeConfig{KeepHistory: keep})
	const stream = "journey-A1234BC"
	mustAppend(t, c, stream, esdb.NoStream{}, jsonEvent("PrisonerReceived", map[string]int{"n": 0}), jsonEvent("PrisonerReceived", map[string]int{"n": 1}))

	refused := func(err error, what string) {
		t.Helper()
		wantCode(t, err, esdb.ErrorCodeAccessDenied, what)
		if !strings.Contains(err.Error(), "keeps its whole history") {
			t.Fatalf("%s: the error does not say why: %v", what, err)
		}
	}
	_, err := c.DeleteStream(ctxT(t), stream, esdb.DeleteStreamOptions{})
	refused(err, "delete")
	_, err = c.TombstoneStream(ctxT(t), stream, esdb.TombstoneStreamOptions{})
	refused(err, "tombstone")
	_, err = c.TombstoneStream(ctxT(t), "$$"+stream, esdb.TombstoneStreamOptions{})
	refused(err, "tombstone of the metadata stream")
	for name, set := range map[string]func(*esdb.StreamMetadata){
		"$maxCount": func(m *esdb.StreamMetadata) { m.SetMaxCount(1) },
		"$maxAge":   func(m *esdb.StreamMetadata) { m.SetMaxAge(60_000_000_000) },
		"$tb":       func(m *esdb.StreamMetadata) { m.SetTruncateBefore(1) },
	} {
		var m esdb.StreamMetadata
		set(&m)
		_, err := c.SetStreamMetadata(ctxT(t), stream, esdb.AppendToStreamOptions{}, m)
		refused(err, "metadata "+name)
	}
	if evs := mustRead(t, c, stream, esdb.ReadStreamOptions{From: esdb.Start{}}, 10); len(evs) != 2 {
		t.Fatalf("after the refusals the stream has %d events, want 2", len(evs))
	}

	var ok esdb.StreamMetadata
	ok.AddCustomProperty("owner", "resettlement")
	if _, err := c.SetStreamMetadata(ctxT(t), stream, esdb.AppendToStreamOptions{}, ok); err != nil {
		t.Fatalf("metadata that hides nothing: %v", err)
	}

	mustAppend(t, c, "scratch", esdb.NoStream{}, jsonEvent("Noted", map[string]int{"n": 0}))
	var mc esdb.StreamMetadata
	mc.SetMaxCount(1)
	if _, err := c.SetStreamMetadata(ctxT(t), "scratch", esdb.AppendToStreamOptions{}, mc); err != nil {
		t.Fatalf("metadata on another stream: %v", err)
	}
	if _, err := c.DeleteStream(ctxT(t), "scratch", esdb.DeleteStreamOptions{}); err != nil {
		t.Fatalf("delete of another stream: %v", err)
	}
}
