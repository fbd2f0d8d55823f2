package esdbserver_test

import (
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// deleteKinds are the expected revisions the delete tables use.
var deleteKinds = []struct {
	name string
	exp  esdb.ExpectedRevision
}{
	{"any", esdb.Any{}},
	{"no_stream", esdb.NoStream{}},
	{"stream_exists", esdb.StreamExists{}},
	{"revision_0", esdb.Revision(0)},
	{"revision_1", esdb.Revision(1)},
}

const (
	outOK      = "ok"
	outWrong   = "wrong-expected-version"
	outDeleted = "stream-deleted"
)

// checkDeleteOutcome checks a delete or tombstone result. A wrong expected version on
// these calls is an error status with trailers, as on a real node; the official client
// reports it with ErrorCodeUnknown and the server's message.
func checkDeleteOutcome(t *testing.T, err error, want string) {
	t.Helper()
	switch want {
	case outOK:
		if err != nil {
			t.Fatalf("error %v, want success", err)
		}
	case outWrong:
		if err == nil || !strings.Contains(err.Error(), "WrongExpectedVersion") {
			t.Fatalf("error %v, want a wrong expected version", err)
		}
	case outDeleted:
		wantCode(t, err, esdb.ErrorCodeStreamDeleted, "delete")
	}
}

func TestDeleteStream(t *testing.T) {
	_, c := startNode(t, "")
	want := map[streamState][]string{
		stateNew:         {outWrong, outWrong, outWrong, outWrong, outWrong},
		stateExisting:    {outOK, outWrong, outOK, outWrong, outOK},
		stateSoftDeleted: {outOK, outOK, outDeleted, outWrong, outOK},
		stateTombstoned:  {outDeleted, outDeleted, outDeleted, outDeleted, outDeleted},
	}
	for _, st := range []streamState{stateNew, stateExisting, stateSoftDeleted, stateTombstoned} {
		for i, k := range deleteKinds {
			t.Run(st.String()+"/"+k.name, func(t *testing.T) {
				stream := "del-" + st.String() + "-" + k.name
				st.prepare(t, c, stream)
				res, err := c.DeleteStream(ctxT(t), stream, esdb.DeleteStreamOptions{ExpectedRevision: k.exp})
				checkDeleteOutcome(t, err, want[st][i])
				if err != nil {
					return
				}
				if res.Position.Commit == 0 {
					t.Errorf("delete reported no position")
				}
				_, err = readStream(t, c, stream, esdb.ReadStreamOptions{}, 10)
				wantCode(t, err, esdb.ErrorCodeResourceNotFound, "read after soft delete")
				// Metadata the user set survives a soft delete (only $tb changes).
				res2 := mustAppend(t, c, stream, esdb.Any{}, events(1, "Again")...)
				if res2.NextExpectedVersion != 2 {
					t.Fatalf("append after soft delete got revision %d, want 2", res2.NextExpectedVersion)
				}
			})
		}
	}
}

func TestSoftDeleteKeepsUserMetadata(t *testing.T) {
	_, c := startNode(t, "")
	mustAppend(t, c, "keep", esdb.NoStream{}, events(5, "T")...)
	var meta esdb.StreamMetadata
	meta.SetMaxCount(2)
	meta.AddCustomProperty("owner", "x")
	if _, err := c.SetStreamMetadata(ctxT(t), "keep", esdb.AppendToStreamOptions{}, meta); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteStream(ctxT(t), "keep", esdb.DeleteStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, c, "keep", esdb.Any{}, events(3, "T")...)
	got := mustRead(t, c, "keep", esdb.ReadStreamOptions{}, 100)
	if len(got) != 2 || got[0].Event.EventNumber != 6 {
		t.Fatalf("read %v, want [6 7] ($maxCount 2 still applies)", revisions(got))
	}
	m, err := c.GetStreamMetadata(ctxT(t), "keep", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}})
	if err != nil {
		t.Fatal(err)
	}
	if m.MaxCount() == nil || *m.MaxCount() != 2 || m.CustomProperty("owner") != "x" {
		t.Fatalf("metadata after delete and append: maxCount %v owner %v", m.MaxCount(), m.CustomProperty("owner"))
	}
}

func TestTombstoneStream(t *testing.T) {
	_, c := startNode(t, "")
	want := map[streamState][]string{
		stateNew:         {outOK, outOK, outWrong, outWrong, outWrong},
		stateExisting:    {outOK, outWrong, outOK, outWrong, outOK},
		stateSoftDeleted: {outOK, outOK, outDeleted, outWrong, outOK},
		stateTombstoned:  {outDeleted, outDeleted, outDeleted, outDeleted, outDeleted},
	}
	for _, st := range []streamState{stateNew, stateExisting, stateSoftDeleted, stateTombstoned} {
		for i, k := range deleteKinds {
			t.Run(st.String()+"/"+k.name, func(t *testing.T) {
				stream := "tomb-" + st.String() + "-" + k.name
				st.prepare(t, c, stream)
				res, err := c.TombstoneStream(ctxT(t), stream, esdb.TombstoneStreamOptions{ExpectedRevision: k.exp})
				checkDeleteOutcome(t, err, want[st][i])
				if err != nil {
					return
				}
				if res.Position.Commit == 0 {
					t.Errorf("tombstone reported no position")
				}
				checkTombstoned(t, c, stream)
			})
		}
	}
}

// checkTombstoned: every later write, read, delete and subscription fails with stream
// deleted.
func checkTombstoned(t *testing.T, c *esdb.Client, stream string) {
	t.Helper()
	for _, exp := range []esdb.ExpectedRevision{esdb.Any{}, esdb.NoStream{}, esdb.StreamExists{}, esdb.Revision(1)} {
		_, err := c.AppendToStream(ctxT(t), stream, esdb.AppendToStreamOptions{ExpectedRevision: exp}, events(1, "T")...)
		wantCode(t, err, esdb.ErrorCodeStreamDeleted, "append after tombstone")
	}
	for _, opts := range []esdb.ReadStreamOptions{{}, {Direction: esdb.Backwards, From: esdb.End{}}, {From: esdb.Revision(1)}} {
		_, err := readStream(t, c, stream, opts, 10)
		wantCode(t, err, esdb.ErrorCodeStreamDeleted, "read after tombstone")
	}
	_, err := c.DeleteStream(ctxT(t), stream, esdb.DeleteStreamOptions{})
	wantCode(t, err, esdb.ErrorCodeStreamDeleted, "delete after tombstone")
	_, err = c.TombstoneStream(ctxT(t), stream, esdb.TombstoneStreamOptions{})
	wantCode(t, err, esdb.ErrorCodeStreamDeleted, "tombstone after tombstone")
}

// TestTombstoneSurvivesRestart: a tombstone is durable, and $all shows the
// $streamDeleted record.
func TestTombstoneSurvivesRestart(t *testing.T) {
	r := newRestartable(t)
	mustAppend(t, r.c, "t-restart", esdb.NoStream{}, events(2, "T")...)
	if _, err := r.c.TombstoneStream(ctxT(t), "t-restart", esdb.TombstoneStreamOptions{ExpectedRevision: esdb.Revision(1)}); err != nil {
		t.Fatal(err)
	}
	r.restart()
	checkTombstoned(t, r.c, "t-restart")
	all := readAll(t, r.c, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if len(all) != 1 || all[0].Event.EventType != "$streamDeleted" || all[0].Event.StreamID != "t-restart" {
		t.Fatalf("last record in $all: %+v, want the $streamDeleted of t-restart", all)
	}
}
