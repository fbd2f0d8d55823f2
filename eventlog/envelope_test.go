package eventlog_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/eventstore"
)

const noms = "A4092EA"

var t0 = time.Date(2024, 6, 24, 15, 6, 39, 0, time.UTC)

func meta(key string) eventlog.Metadata {
	return eventlog.Metadata{Metadata: aggregates.Metadata{UserID: "u1", Role: "PRISON_STAFF", Organisation: "SWI",
		OccurredAt: t0, RecordedAt: t0.Add(time.Minute), Source: aggregates.SourceAPI, CorrelationID: "corr",
		CausationID: "cause", IdempotencyKey: key, SchemaVersion: 2}, Command: "ReceivePrisoner", CommandDigest: "abc"}
}

func proposed(n int, key string) []eventlog.Proposed {
	out := make([]eventlog.Proposed, n)
	for i := range out {
		ev := aggregates.SupervisionContactRecorded{By: "C10", Kind: "visit", Note: "note <&> \"quoted\"", At: t0.Add(time.Duration(i) * time.Hour)}
		typ, data, err := aggregates.Encode(ev)
		if err != nil {
			panic(err)
		}
		m := meta(key)
		m.SchemaVersion = ev.SchemaVersion()
		out[i] = eventlog.Proposed{Type: typ, Data: data, Metadata: m}
	}
	return out
}

// sealChain seals batches of events as consecutive appends would.
func sealChain(t *testing.T, stream string, batches ...int) []eventlog.Recorded {
	t.Helper()
	var all []eventlog.Recorded
	for i, n := range batches {
		recs, err := eventlog.Seal(stream, eventlog.HeadOf(all), "key-"+string(rune('a'+i)), proposed(n, "key"))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, recs...)
	}
	return all
}

func TestSealChainsAndVerifies(t *testing.T) {
	stream := aggregates.StreamName(noms)
	// Given three appends of 1, 3 and 2 events,
	recs := sealChain(t, stream, 1, 3, 2)
	// then revisions are dense, each event names its predecessor's hash, and
	// the chain verifies.
	for i, r := range recs {
		if r.Revision != uint64(i) {
			t.Fatalf("event %d has revision %d", i, r.Revision)
		}
		want := ""
		if i > 0 {
			want = recs[i-1].Metadata.Hash
		}
		if r.Metadata.PreviousHash != want || len(r.Metadata.Hash) != 64 {
			t.Fatalf("event %d: previous %q hash %q", i, r.Metadata.PreviousHash, r.Metadata.Hash)
		}
	}
	v := eventlog.VerifyEvents(stream, recs)
	if !v.OK() || v.Checked != 6 || v.Head != recs[5].Metadata.Hash {
		t.Fatalf("verification: %+v %v", v, v.Break)
	}
	// Sealing is deterministic: the same call gives the same bytes.
	again := sealChain(t, stream, 1, 3, 2)
	if !reflect.DeepEqual(recs, again) {
		t.Fatal("Seal is not deterministic")
	}
	// The stored metadata is a superset of aggregates.Metadata.
	var am aggregates.Metadata
	if err := json.Unmarshal(recs[2].RawMetadata, &am); err != nil || am.Hash != recs[2].Metadata.Hash || am.UserID != "u1" || am.SchemaVersion != 1 {
		t.Fatalf("metadata as aggregates.Metadata: %+v %v", am, err)
	}
}

// TestHashByTheDefinition recomputes a hash from the stored bytes following the
// doc comment of EventHash word for word, as an inspector would, without
// calling the package.
func TestHashByTheDefinition(t *testing.T) {
	stream := aggregates.StreamName(noms)
	recs := sealChain(t, stream, 2)
	ev := recs[1]

	var raw map[string]any
	if err := json.Unmarshal(ev.RawMetadata, &raw); err != nil {
		t.Fatal(err)
	}
	F := func(b []byte) []byte {
		return append(binary.BigEndian.AppendUint64(nil, uint64(len(b))), b...)
	}
	U := func(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
	str := func(k string) string { s, _ := raw[k].(string); return s }
	prev, err := hex.DecodeString(str("previousHash"))
	if err != nil || len(prev) != 32 {
		t.Fatalf("previousHash %q", str("previousHash"))
	}
	var m []byte
	for _, k := range []string{"userId", "role", "organisation", "occurredAt", "recordedAt", "source",
		"correlationId", "causationId", "idempotencyKey", "command", "commandDigest"} {
		m = append(m, F([]byte(k))...)
		m = append(m, F([]byte(str(k)))...)
	}
	dataSum, metaSum := sha256.Sum256(ev.Data), sha256.Sum256(m)
	var msg []byte
	for _, part := range [][]byte{[]byte("gateledger-event-v1"), []byte(stream), U(1), []byte(ev.ID.String()),
		[]byte(ev.Type), U(uint64(raw["schemaVersion"].(float64))), prev, dataSum[:], metaSum[:]} {
		msg = append(msg, F(part)...)
	}
	sum := sha256.Sum256(msg)
	if got := hex.EncodeToString(sum[:]); got != str("hash") {
		t.Fatalf("hash by the definition %s, stored %s", got, str("hash"))
	}
	// EventHash, given the stored bytes, agrees.
	var prev32 [32]byte
	copy(prev32[:], prev)
	if h, err := eventlog.EventHash(stream, 1, ev.ID, ev.Type, prev32, ev.Data, ev.RawMetadata); err != nil || hex.EncodeToString(h[:]) != str("hash") {
		t.Fatalf("EventHash %x %v", h, err)
	}
	if _, err := eventlog.EventHash(stream, 1, ev.ID, ev.Type, prev32, ev.Data, []byte("{")); !errors.Is(err, eventlog.ErrMalformedEnvelope) {
		t.Fatalf("EventHash of bad metadata: %v", err)
	}
	if str("occurredAt") != "2024-06-24T15:06:39Z" {
		t.Errorf("occurredAt stored as %q", str("occurredAt"))
	}
	// The first event's previous hash is absent, and it hashes 32 zero bytes.
	var first map[string]any
	_ = json.Unmarshal(recs[0].RawMetadata, &first)
	if _, ok := first["previousHash"]; ok {
		t.Error("revision 0 has a previousHash")
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	stream := aggregates.StreamName(noms)
	edit := func(f func([]eventlog.Recorded) []eventlog.Recorded) func() []eventlog.Recorded {
		return func() []eventlog.Recorded {
			recs := sealChain(t, stream, 2, 2)
			for i := range recs { // deep copy the bytes we edit
				recs[i].Data = bytes.Clone(recs[i].Data)
				recs[i].RawMetadata = bytes.Clone(recs[i].RawMetadata)
			}
			return f(recs)
		}
	}
	setMeta := func(r *eventlog.Recorded, key string, value any) {
		var m map[string]any
		if err := json.Unmarshal(r.RawMetadata, &m); err != nil {
			t.Fatal(err)
		}
		m[key] = value
		r.RawMetadata, _ = json.Marshal(m)
	}
	tests := []struct {
		name     string
		events   func() []eventlog.Recorded
		stream   string
		revision uint64
		reason   string
	}{
		{"one byte of data", edit(func(r []eventlog.Recorded) []eventlog.Recorded {
			r[2].Data[bytes.IndexByte(r[2].Data, 'v')] = 'V'
			return r
		}), stream, 2, "hash mismatch"},
		{"occurredAt in the metadata", edit(func(r []eventlog.Recorded) []eventlog.Recorded {
			setMeta(&r[1], "occurredAt", "2024-06-24T16:06:40Z")
			return r
		}), stream, 1, "hash mismatch"},
		{"who recorded it", edit(func(r []eventlog.Recorded) []eventlog.Recorded {
			setMeta(&r[3], "userId", "someone-else")
			return r
		}), stream, 3, "hash mismatch"},
		{"schema version", edit(func(r []eventlog.Recorded) []eventlog.Recorded {
			setMeta(&r[0], "schemaVersion", 2)
			return r
		}), stream, 0, "hash mismatch"},
		{"event type", edit(func(r []eventlog.Recorded) []eventlog.Recorded {
			r[1].Type = "BreachRecorded"
			return r
		}), stream, 1, "hash mismatch"},
		{"event id", edit(func(r []eventlog.Recorded) []eventlog.Recorded {
			r[0].ID = uuid.New()
			return r
		}), stream, 0, "hash mismatch"},
		{"a stored hash rewritten", edit(func(r []eventlog.Recorded) []eventlog.Recorded {
			setMeta(&r[2], "hash", hex.EncodeToString(make([]byte, 32)))
			return r
		}), stream, 2, "hash mismatch"},
		{"an event removed", edit(func(r []eventlog.Recorded) []eventlog.Recorded {
			return append(r[:1], r[2:]...)
		}), stream, 2, "revision gap"},
		{"two events swapped, revisions kept", edit(func(r []eventlog.Recorded) []eventlog.Recorded {
			r[1], r[2] = r[2], r[1]
			r[1].Revision, r[2].Revision = 1, 2
			return r
		}), stream, 1, "previous hash mismatch"},
		{"metadata not JSON", edit(func(r []eventlog.Recorded) []eventlog.Recorded {
			r[3].RawMetadata = []byte("{")
			return r
		}), stream, 3, "malformed metadata"},
		{"events moved to another stream", edit(func(r []eventlog.Recorded) []eventlog.Recorded { return r }),
			aggregates.StreamName("B1234CD"), 0, "hash mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := eventlog.VerifyEvents(tt.stream, tt.events())
			if v.OK() || v.Break.Revision != tt.revision || v.Break.Reason != tt.reason {
				t.Fatalf("got %+v, want a %q break at %d", v.Break, tt.reason, tt.revision)
			}
			if v.Break.Expected == v.Break.Found {
				t.Errorf("break without a difference: %v", v.Break)
			}
		})
	}
}

func TestEventIDs(t *testing.T) {
	a := eventlog.EventID("journey-A4092EA", "k", 0)
	if a != eventlog.EventID("journey-A4092EA", "k", 0) || a.Version() != 5 {
		t.Fatalf("not a stable UUIDv5: %s", a)
	}
	for _, other := range []uuid.UUID{eventlog.EventID("journey-A4092EA", "k", 1), eventlog.EventID("journey-A4092EB", "k", 0),
		eventlog.EventID("journey-A4092EA", "k0", 0)} {
		if other == a {
			t.Errorf("collision %s", other)
		}
	}
}

func TestAppendReadVerifyThroughTheStore(t *testing.T) {
	ctx := context.Background()
	store := eventlogtest.Store(t)
	stream := aggregates.StreamName(noms)

	// Given an empty stream, when three appends follow one another,
	head := eventlog.Head{}
	var lastPos esdb.Position
	for i, n := range []int{1, 3, 2} {
		res, err := eventlog.Append(ctx, store.Client, stream, head, "k"+string(rune('0'+i)), proposed(n, "x"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Head.Revision != head.Next()+uint64(n)-1 || res.Position.Commit <= lastPos.Commit {
			t.Fatalf("append %d: %+v", i, res)
		}
		head, lastPos = res.Head, res.Position
	}
	// then the stream reads back as written and verifies.
	recs, err := eventlog.ReadStream(ctx, store.Client, stream)
	if err != nil || len(recs) != 6 {
		t.Fatalf("read %d events: %v", len(recs), err)
	}
	if recs[5].Position != lastPos || recs[5].Metadata.Hash != head.Hash {
		t.Errorf("last event %+v, head %+v pos %+v", recs[5].Metadata, head, lastPos)
	}
	v, err := eventlog.VerifyStream(ctx, store.Client, stream)
	if err != nil || !v.OK() || v.Checked != 6 {
		t.Fatalf("verify: %+v %v %v", v, v.Break, err)
	}

	// When the same append is retried (its answer lost), it is idempotent.
	again, err := eventlog.Append(ctx, store.Client, stream, eventlog.Head{Exists: true, Revision: 3, Hash: recs[3].Metadata.Hash}, "k2", proposed(2, "x"))
	if err != nil || again.Head.Revision != 5 {
		t.Fatalf("idempotent retry: %+v %v", again, err)
	}
	// When an append expects a stale head, it is a conflict.
	_, err = eventlog.Append(ctx, store.Client, stream, eventlog.Head{Exists: true, Revision: 3, Hash: recs[3].Metadata.Hash}, "k9", proposed(1, "x"))
	var ce *eventlog.ConflictError
	if !errors.Is(err, eventlog.ErrWrongExpectedRevision) || !errors.As(err, &ce) || !eventstore.IsWrongExpectedVersion(err) {
		t.Fatalf("stale append: %v", err)
	}
	if recs, _ = eventlog.ReadStream(ctx, store.Client, stream); len(recs) != 6 {
		t.Fatalf("%d events after retries", len(recs))
	}

	// When someone writes past the ledger with another client, the chain shows it.
	bad := esdb.EventData{EventID: uuid.New(), EventType: "BreachRecorded", ContentType: esdb.ContentTypeJson,
		Data: []byte(`{"description":"x","occurredAt":"2024-06-24T15:06:39Z"}`), Metadata: []byte(`{"userId":"intruder","schemaVersion":1}`)}
	if _, err := store.Client.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{}, bad); err != nil {
		t.Fatal(err)
	}
	v, err = eventlog.VerifyStream(ctx, store.Client, stream)
	if err != nil || v.OK() || v.Break.Revision != 6 || v.Break.Reason != "previous hash mismatch" || v.Break.EventID != bad.EventID {
		t.Fatalf("intruder: %+v %v", v.Break, err)
	}

	// A stream that does not exist reads as empty and verifies.
	if v, err := eventlog.VerifyStream(ctx, store.Client, "journey-Z9999ZZ"); err != nil || !v.OK() || v.Checked != 0 {
		t.Fatalf("missing stream: %+v %v", v, err)
	}
}

func TestStoredV1FixtureDecodesThroughTheStore(t *testing.T) {
	ctx := context.Background()
	store := eventlogtest.Store(t)
	data, err := os.ReadFile("../aggregates/testdata/PrisonerReceived.v1.json")
	if err != nil {
		t.Fatal(err)
	}
	// Given a PrisonerReceived stored with schema version 1, as an older
	// version of the ledger wrote it,
	m := meta("v1")
	m.SchemaVersion = 1
	if _, err := eventlog.Append(ctx, store.Client, aggregates.StreamName(noms), eventlog.Head{}, "v1",
		[]eventlog.Proposed{{Type: aggregates.TypePrisonerReceived, Data: data, Metadata: m}}); err != nil {
		t.Fatal(err)
	}
	// when the journey is loaded,
	st, err := eventlog.LoadJourney(ctx, store.Client, noms)
	if err != nil {
		t.Fatal(err)
	}
	// then the event is upcast to the current version and folds.
	want := aggregates.PrisonerReceived{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: "SWI", BookingID: "1209333",
		At: time.Date(2019, 3, 4, 9, 0, 0, 0, time.UTC)}
	if len(st.Events) != 1 || !reflect.DeepEqual(st.Events[0].Event, want) {
		t.Fatalf("decoded %#v", st.Events)
	}
	if st.Journey.Custody != aggregates.InCustody || st.Revision() != 0 || st.Events[0].Metadata.SchemaVersion != 1 {
		t.Fatalf("journey %+v revision %d", st.Journey, st.Revision())
	}
	// The stored bytes are untouched: the chain still verifies.
	if v, err := eventlog.VerifyStream(ctx, store.Client, st.Stream); err != nil || !v.OK() {
		t.Fatalf("verify: %+v %v", v.Break, err)
	}
}

func TestLoadJourney(t *testing.T) {
	ctx := context.Background()
	store := eventlogtest.Store(t)
	// A journey never written is empty, at no revision.
	st, err := eventlog.LoadJourney(ctx, store.Client, noms)
	if err != nil || len(st.Events) != 0 || st.Revision() != eventlog.NoRevision || st.Journey.NOMS != noms || st.Head.Exists {
		t.Fatalf("empty journey: %+v %v", st, err)
	}
	// A malformed prison number is refused before any read.
	if _, err := eventlog.LoadJourney(ctx, store.Client, "a4092ea"); !errors.Is(err, aggregates.ErrInvalidIdentifier) {
		t.Fatalf("malformed NOMS: %v", err)
	}
	// Events appended with AppendJourney come back decoded, with metadata.
	evs := []aggregates.Event{
		aggregates.PrisonerReceived{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: "SWI", At: t0},
		aggregates.CustodyScreeningCompleted{Prison: "SWI", At: t0.Add(time.Hour)},
	}
	m := meta("")
	m.OccurredAt = time.Time{}
	res, recorded, err := eventlog.AppendJourney(ctx, store.Client, noms, st.Head, "idem-1", evs, m, t0.Add(2*time.Hour))
	if err != nil || len(recorded) != 2 || res.Head.Revision != 1 {
		t.Fatalf("append journey: %+v %v", res, err)
	}
	st, err = eventlog.LoadJourney(ctx, store.Client, noms)
	if err != nil || len(st.Events) != 2 || st.Journey.ScreenedAt.IsZero() || st.Revision() != 1 {
		t.Fatalf("reload: %+v %v", st, err)
	}
	for i, ev := range st.Events {
		if !reflect.DeepEqual(ev.Event, evs[i]) || ev.Metadata.IdempotencyKey != "idem-1" ||
			!ev.Metadata.OccurredAt.Equal(evs[i].OccurredAt()) || !ev.Metadata.RecordedAt.Equal(t0.Add(2*time.Hour)) ||
			ev.Metadata.SchemaVersion != evs[i].SchemaVersion() || ev.ID != eventlog.EventID(st.Stream, "idem-1", i) {
			t.Errorf("event %d: %#v %+v", i, ev.Event, ev.Metadata)
		}
	}
	if got := st.WithKey("idem-1"); len(got) != 2 {
		t.Errorf("WithKey: %d", len(got))
	}
	if _, ok := st.Find(st.Events[1].ID.String()); !ok {
		t.Error("Find")
	}
}
