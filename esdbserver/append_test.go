package esdbserver_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

func TestAppendAndReadBack(t *testing.T) {
	_, c := startNode(t, "")
	ctx := ctxT(t)
	evs := events(3, "Thing")
	res, err := c.AppendToStream(ctx, "s-1", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, evs...)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	if res.NextExpectedVersion != 2 {
		t.Fatalf("next expected version = %d, want 2", res.NextExpectedVersion)
	}
	got, err := readStream(t, c, "s-1", esdb.ReadStreamOptions{}, 10)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if len(got) != 3 {
		t.Fatalf("read %d events, want 3", len(got))
	}
	for i, ev := range got {
		e := ev.Event
		if e.EventID != evs[i].EventID || e.EventNumber != uint64(i) || e.EventType != "Thing" || !bytes.Equal(e.Data, evs[i].Data) || e.StreamID != "s-1" {
			t.Errorf("event %d = %+v, want id %s", i, e, evs[i].EventID)
		}
		if e.CreatedDate.IsZero() {
			t.Errorf("event %d has no created date", i)
		}
	}
}

func TestWrongExpectedVersion(t *testing.T) {
	_, c := startNode(t, "")
	ctx := ctxT(t)
	if _, err := c.AppendToStream(ctx, "s", esdb.AppendToStreamOptions{}, events(2, "T")...); err != nil {
		t.Fatal(err)
	}
	_, err := c.AppendToStream(ctx, "s", esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(0)}, events(1, "T")...)
	var esErr *esdb.Error
	if !errors.As(err, &esErr) || esErr.Code() != esdb.ErrorCodeWrongExpectedVersion {
		t.Fatalf("err = %v, want wrong expected version", err)
	}
}
