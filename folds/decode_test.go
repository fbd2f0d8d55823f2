package folds_test

import (
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/folds"
	"github.com/gateledger/gateledger/internal/journeygen"
)

// sealedEvent is a generated journey event as the ledger stores it.
func sealedEvent(t testing.TB, ev aggregates.Event) eventlog.Recorded {
	t.Helper()
	typ, data, err := aggregates.Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := eventlog.Seal(aggregates.StreamName(noms), eventlog.Head{}, "k", []eventlog.Proposed{{Type: typ, Data: data,
		Metadata: eventlog.Metadata{Metadata: aggregates.Metadata{UserID: "officer-1", Role: "PRISON_STAFF", Organisation: "SWI",
			Source: aggregates.SourceAPI, OccurredAt: t0, RecordedAt: later, SchemaVersion: ev.SchemaVersion()}, Command: "ReceivePrisoner"}}})
	if err != nil {
		t.Fatal(err)
	}
	return recs[0]
}

func TestDecode(t *testing.T) {
	rec := sealedEvent(t, aggregates.PrisonerReceived{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: "SWI", At: t0})
	tests := []struct {
		name           string
		stream, typ    string
		data, metadata []byte
		// then
		noms    string
		domain  bool
		env     bool // the envelope was read
		wantErr error
	}{
		{name: "a journey event", stream: rec.Stream, typ: rec.Type, data: rec.Data, metadata: rec.RawMetadata, noms: noms, domain: true, env: true},
		{name: "the store's own event", stream: rec.Stream, typ: "$metadata", data: rec.Data, metadata: rec.RawMetadata},
		{name: "another stream with an envelope", stream: "ledger-seals", typ: "Sealed", data: []byte(`{}`), metadata: rec.RawMetadata, env: true},
		{name: "another stream without metadata", stream: "ledger-seals", typ: "Sealed", data: []byte(`{}`)},
		{name: "another stream, metadata not an envelope", stream: "ledger-seals", typ: "Sealed", metadata: []byte(`[1]`),
			wantErr: eventlog.ErrMalformedEnvelope},
		{name: "a journey event without metadata", stream: rec.Stream, typ: rec.Type, data: rec.Data, noms: noms,
			wantErr: eventlog.ErrMalformedEnvelope},
		{name: "a journey event, metadata not an envelope", stream: rec.Stream, typ: rec.Type, data: rec.Data, metadata: []byte(`{"userId": 3}`),
			noms: noms, wantErr: eventlog.ErrMalformedEnvelope},
		{name: "a journey event of an unknown type", stream: rec.Stream, typ: "PrisonerTeleported", data: rec.Data, metadata: rec.RawMetadata,
			noms: noms, env: true, wantErr: aggregates.ErrUnknownEventType},
		{name: "a journey event with malformed data", stream: rec.Stream, typ: rec.Type, data: []byte(`{"noms":`), metadata: rec.RawMetadata,
			noms: noms, env: true, wantErr: aggregates.ErrMalformedEvent},
	}
	dc := folds.NewDecoder()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d folds.Decoded
			dc.Decode(&d, tt.stream, tt.typ, tt.data, tt.metadata)
			if d.NOMS != tt.noms || (d.Domain != nil) != tt.domain || !errors.Is(d.DecodeErr, tt.wantErr) || (tt.wantErr == nil) != (d.DecodeErr == nil) {
				t.Fatalf("decoded noms %q domain %v err %v", d.NOMS, d.Domain, d.DecodeErr)
			}
			if tt.env != (d.Envelope.Hash == rec.Metadata.Hash && d.Envelope.Hash != "") {
				t.Fatalf("envelope %+v", d.Envelope)
			}
			if tt.env && !reflect.DeepEqual(d.Envelope, rec.Metadata) {
				t.Fatalf("envelope\n got %+v\nwant %+v", d.Envelope, rec.Metadata)
			}
			if tt.domain {
				want, _ := eventlog.DecodeJourneyEvent(rec)
				if !reflect.DeepEqual(d.Domain, want) {
					t.Fatalf("domain %+v, want %+v", d.Domain, want)
				}
			}
		})
	}
}

// The runner's way end to end, on generated journeys written to a real store: each
// event of $all decoded by a Decoder, its journey taken from the cache just before it
// (At) and the event applied, equals aggregates' fold of the person's stream so far,
// after every event, with a cache far smaller than the number of people.
func TestDecodeAndFoldAllEqualsRebuild(t *testing.T) {
	ctx := context.Background()
	store := eventlogtest.Store(t)
	g := journeygen.New(21, t0.AddDate(2, 0, 0), 2*365*24*time.Hour, aggregates.DefaultPolicy(nil))
	var gen []journeygen.Journey
	for i := range 24 {
		gen = append(gen, g.Journey(i))
	}
	if err := (&journeygen.Writer{Client: store, Concurrency: 4, StepsPerAppend: 2}).Write(ctx, gen); err != nil {
		t.Fatal(err)
	}
	whole := map[string][]aggregates.Event{}
	for _, gj := range gen {
		whole[gj.NOMS] = stored(t, store, gj.NOMS)
	}

	rs, err := store.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Forwards, From: esdb.Start{}}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	dc := folds.NewDecoder()
	c := folds.NewCache(store, 5)
	n := 0
	for {
		re, err := rs.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatal(err)
		}
		ev := re.OriginalEvent()
		var d folds.Decoded
		dc.Decode(&d, ev.StreamID, ev.EventType, ev.Data, ev.UserMetadata)
		if d.NOMS == "" {
			continue
		}
		if d.DecodeErr != nil {
			t.Fatalf("%s@%d: %v", ev.StreamID, ev.EventNumber, d.DecodeErr)
		}
		f, err := c.At(ctx, d.NOMS, ev.StreamID, ev.EventNumber)
		if err != nil {
			t.Fatal(err)
		}
		f.Apply(ev.EventNumber, ev.Position.Commit, d.Domain, d.DecodeErr)
		want := aggregates.Rebuild(whole[d.NOMS][:ev.EventNumber+1])
		if f.Broken != nil || f.Position != ev.Position.Commit || !reflect.DeepEqual(f.Journey, want) {
			t.Fatalf("%s after revision %d: broken %v\n got %+v\nwant %+v", ev.StreamID, ev.EventNumber, f.Broken, f.Journey, want)
		}
		n++
	}
	if c.Len() != 5 || n == 0 {
		t.Fatalf("Len() = %d after %d events", c.Len(), n)
	}
}

// FuzzDecode: Decode reads bytes from the store, written by anyone with access to it.
// Whatever they are it never panics, and it answers as the reference decoders
// (eventlog.DecodeMetadata, aggregates.Decode) do.
func FuzzDecode(f *testing.F) {
	g := journeygen.New(7, t0.AddDate(2, 0, 0), 365*24*time.Hour, aggregates.DefaultPolicy(nil))
	seen := map[string]bool{}
	for i := range 40 {
		for _, s := range g.Journey(i).Steps {
			for _, ev := range s.Events {
				rec := sealedEvent(f, ev)
				if seen[rec.Type] {
					continue
				}
				seen[rec.Type] = true
				f.Add(rec.Stream, rec.Type, rec.Data, rec.RawMetadata)
			}
		}
	}
	rec := sealedEvent(f, aggregates.PrisonerReceived{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: "SWI", At: t0})
	f.Add("ledger-seals", "Sealed", []byte(`{}`), rec.RawMetadata)
	f.Add(rec.Stream, "$metadata", []byte(`{}`), []byte(nil))
	f.Add(rec.Stream, rec.Type, []byte(`{"noms":`), []byte(`{"userId":"\u00`))
	dc := folds.NewDecoder()
	f.Fuzz(func(t *testing.T, stream, typ string, data, metadata []byte) {
		var d folds.Decoded
		dc.Decode(&d, stream, typ, data, metadata)
		if strings.HasPrefix(typ, "$") {
			if !reflect.DeepEqual(d, folds.Decoded{}) {
				t.Fatalf("the store's own event was decoded: %+v", d)
			}
			return
		}
		noms, isJourney := aggregates.NOMSFromStream(stream)
		if d.NOMS != noms || (!isJourney && d.Domain != nil) || (d.Domain != nil && d.DecodeErr != nil) {
			t.Fatalf("noms %q domain %v err %v", d.NOMS, d.Domain, d.DecodeErr)
		}
		var envErr error
		if len(metadata) > 0 {
			env, err := eventlog.DecodeMetadata(metadata)
			envErr = err
			if err == nil && !reflect.DeepEqual(env, d.Envelope) {
				t.Fatalf("envelope\n got %+v\nwant %+v", d.Envelope, env)
			}
		}
		malformed := errors.Is(d.DecodeErr, eventlog.ErrMalformedEnvelope)
		switch {
		case len(metadata) > 0 && malformed != (envErr != nil):
			t.Fatalf("envelope error %v, reference %v", d.DecodeErr, envErr)
		case len(metadata) == 0 && isJourney && !malformed:
			t.Fatalf("a journey event without metadata: %v", d.DecodeErr)
		case len(metadata) == 0 && !isJourney && d.DecodeErr != nil:
			t.Fatalf("another stream's event without metadata: %v", d.DecodeErr)
		}
		if !isJourney || envErr != nil || len(metadata) == 0 {
			return
		}
		want, err := aggregates.Decode(typ, d.Envelope.SchemaVersion, data)
		if (err == nil) != (d.DecodeErr == nil) || !reflect.DeepEqual(want, d.Domain) {
			t.Fatalf("domain %+v (%v), reference %+v (%v)", d.Domain, d.DecodeErr, want, err)
		}
	})
}
