package esdbserver_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gateledger/gateledger/internal/esdbserver"
	"github.com/gateledger/gateledger/internal/eventdb"
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
		if e.Position.Commit != res.CommitPosition && i == 2 {
			t.Errorf("last event at position %d, append reported %d", e.Position.Commit, res.CommitPosition)
		}
	}
}

func TestAppendKeepsPayloadsByteForByte(t *testing.T) {
	_, c := startNode(t, "")
	bin := esdb.EventData{EventID: uuid.New(), EventType: "Bin", ContentType: esdb.ContentTypeBinary, Data: []byte{0, 1, 2, 255}, Metadata: []byte(`{"who":"me"}`)}
	empty := esdb.EventData{EventID: uuid.New(), EventType: "Empty", ContentType: esdb.ContentTypeJson}
	mustAppend(t, c, "payloads", esdb.NoStream{}, bin, empty)
	got := mustRead(t, c, "payloads", esdb.ReadStreamOptions{}, 10)
	if len(got) != 2 {
		t.Fatalf("read %d events, want 2", len(got))
	}
	if e := got[0].Event; !bytes.Equal(e.Data, bin.Data) || !bytes.Equal(e.UserMetadata, bin.Metadata) || e.ContentType != "application/octet-stream" || e.EventType != "Bin" {
		t.Errorf("binary event = %+v", e)
	}
	if e := got[1].Event; len(e.Data) != 0 || e.ContentType != "application/json" {
		t.Errorf("empty event = %+v", e)
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

// TestWrongExpectedVersionIsAnAnswer checks the wire form: a wrong expected version is an
// AppendResp.wrong_expected_version message with the expected and current revisions,
// not an error status.
func TestWrongExpectedVersionIsAnAnswer(t *testing.T) {
	node, c := startNode(t, "")
	mustAppend(t, c, "wev", esdb.NoStream{}, events(3, "T")...)
	raw := rawStreams(t, node)
	cases := []struct {
		name     string
		opts     *api.AppendReq_Options
		expected string
	}{
		{"no stream", &api.AppendReq_Options{ExpectedStreamRevision: &api.AppendReq_Options_NoStream{NoStream: &shared.Empty{}}}, "no_stream"},
		{"revision", &api.AppendReq_Options{ExpectedStreamRevision: &api.AppendReq_Options_Revision{Revision: 7}}, "7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.StreamIdentifier = &shared.StreamIdentifier{StreamName: []byte("wev")}
			resp, err := rawAppend(t, raw, &api.AppendReq{Content: &api.AppendReq_Options_{Options: tc.opts}}, proposed(uuid.New(), "T"))
			if err != nil {
				t.Fatalf("append: %v (want a wrong_expected_version answer, not an error)", err)
			}
			w := resp.GetWrongExpectedVersion()
			if w == nil {
				t.Fatalf("response %v, want wrong_expected_version", resp)
			}
			if w.GetCurrentRevision() != 2 || w.GetCurrentRevision_20_6_0() != 2 {
				t.Errorf("current revision = %d/%d, want 2", w.GetCurrentRevision(), w.GetCurrentRevision_20_6_0())
			}
			switch tc.expected {
			case "no_stream":
				if w.GetExpectedNoStream() == nil {
					t.Errorf("expected = %v, want no_stream", w)
				}
			default:
				if fmt.Sprint(w.GetExpectedRevision()) != tc.expected {
					t.Errorf("expected revision = %d, want %s", w.GetExpectedRevision(), tc.expected)
				}
			}
		})
	}
}

type streamState int

const (
	stateNew streamState = iota
	stateExisting
	stateSoftDeleted
	stateTombstoned
)

func (s streamState) String() string {
	return [...]string{"new", "existing", "soft-deleted", "tombstoned"}[s]
}

// prepare brings stream into state; existing, soft-deleted and tombstoned streams had
// revisions 0 and 1.
func (s streamState) prepare(t *testing.T, c *esdb.Client, stream string) {
	t.Helper()
	if s == stateNew {
		return
	}
	mustAppend(t, c, stream, esdb.NoStream{}, events(2, "Before")...)
	switch s {
	case stateSoftDeleted:
		if _, err := c.DeleteStream(ctxT(t), stream, esdb.DeleteStreamOptions{ExpectedRevision: esdb.Revision(1)}); err != nil {
			t.Fatalf("delete: %v", err)
		}
	case stateTombstoned:
		if _, err := c.TombstoneStream(ctxT(t), stream, esdb.TombstoneStreamOptions{ExpectedRevision: esdb.Revision(1)}); err != nil {
			t.Fatalf("tombstone: %v", err)
		}
	}
}

// TestAppendExpectedRevisions drives every expected-revision kind against every state a
// stream can be in, with the answers of a real node (KurrentDB's IndexWriter.CheckCommit).
func TestAppendExpectedRevisions(t *testing.T) {
	_, c := startNode(t, "")
	const ok, wev, deleted = "ok", "wrong-expected-version", "stream-deleted"
	kinds := []struct {
		name string
		exp  esdb.ExpectedRevision
	}{
		{"any", esdb.Any{}},
		{"no_stream", esdb.NoStream{}},
		{"stream_exists", esdb.StreamExists{}},
		{"revision_0", esdb.Revision(0)},
		{"revision_1", esdb.Revision(1)},
		{"revision_5", esdb.Revision(5)},
	}
	// want[state][kind]: the outcome, and for ok the revision the new event gets.
	type outcome struct {
		result string
		rev    uint64
	}
	want := map[streamState][]outcome{
		stateNew:         {{ok, 0}, {ok, 0}, {wev, 0}, {wev, 0}, {wev, 0}, {wev, 0}},
		stateExisting:    {{ok, 2}, {wev, 0}, {ok, 2}, {wev, 0}, {ok, 2}, {wev, 0}},
		stateSoftDeleted: {{ok, 2}, {ok, 2}, {deleted, 0}, {wev, 0}, {ok, 2}, {wev, 0}},
		stateTombstoned:  {{deleted, 0}, {deleted, 0}, {deleted, 0}, {deleted, 0}, {deleted, 0}, {deleted, 0}},
	}
	for _, st := range []streamState{stateNew, stateExisting, stateSoftDeleted, stateTombstoned} {
		for i, k := range kinds {
			t.Run(st.String()+"/"+k.name, func(t *testing.T) {
				stream := "exp-" + st.String() + "-" + k.name
				st.prepare(t, c, stream)
				w := want[st][i]
				ev := jsonEvent("After", map[string]string{"case": stream})
				res, err := c.AppendToStream(ctxT(t), stream, esdb.AppendToStreamOptions{ExpectedRevision: k.exp}, ev)
				switch w.result {
				case ok:
					if err != nil {
						t.Fatalf("append: %v, want success", err)
					}
					if res.NextExpectedVersion != w.rev {
						t.Fatalf("next expected version %d, want %d", res.NextExpectedVersion, w.rev)
					}
					got := mustRead(t, c, stream, esdb.ReadStreamOptions{}, 100)
					wantLen := 1 // a soft-deleted stream comes back with only the new event
					if st == stateExisting {
						wantLen = 3
					}
					if len(got) != wantLen || got[len(got)-1].Event.EventID != ev.EventID || got[len(got)-1].Event.EventNumber != w.rev {
						t.Fatalf("read back %v (revisions %v), want %d events ending with the new one at %d", ids(got), revisions(got), wantLen, w.rev)
					}
				case wev:
					wantCode(t, err, esdb.ErrorCodeWrongExpectedVersion, "append")
				case deleted:
					wantCode(t, err, esdb.ErrorCodeStreamDeleted, "append")
				}
			})
		}
	}
}

func TestAppendStreamExistsWithOnlyMetadata(t *testing.T) {
	_, c := startNode(t, "")
	var meta esdb.StreamMetadata
	meta.SetMaxCount(10)
	if _, err := c.SetStreamMetadata(ctxT(t), "meta-only", esdb.AppendToStreamOptions{}, meta); err != nil {
		t.Fatal(err)
	}
	// A real node treats a stream whose metadata stream has events as existing.
	res := mustAppend(t, c, "meta-only", esdb.StreamExists{}, events(1, "T")...)
	if res.NextExpectedVersion != 0 {
		t.Fatalf("next expected version %d, want 0", res.NextExpectedVersion)
	}
}

func TestAppendEmptyBatch(t *testing.T) {
	_, c := startNode(t, "")
	if _, err := c.AppendToStream(ctxT(t), "empty-batch", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}); err != nil {
		t.Fatalf("empty append to a new stream: %v", err)
	}
	_, err := readStream(t, c, "empty-batch", esdb.ReadStreamOptions{}, 10)
	wantCode(t, err, esdb.ErrorCodeResourceNotFound, "read after empty append")
	mustAppend(t, c, "empty-batch", esdb.NoStream{}, events(2, "T")...)
	res := mustAppend(t, c, "empty-batch", esdb.Revision(1))
	if res.NextExpectedVersion != 1 {
		t.Fatalf("empty append at revision 1: next expected version %d", res.NextExpectedVersion)
	}
	_, err = c.AppendToStream(ctxT(t), "empty-batch", esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(0)})
	wantCode(t, err, esdb.ErrorCodeWrongExpectedVersion, "empty append at a stale revision")
}

// restartable lets a test stop a node and start another on the same data directory.
type restartable struct {
	t    *testing.T
	dir  string
	node *esdbserver.Node
	c    *esdb.Client
}

func newRestartable(t *testing.T) *restartable {
	r := &restartable{t: t, dir: t.TempDir()}
	r.node, r.c = startNode(t, r.dir)
	return r
}

func (r *restartable) restart() {
	r.t.Helper()
	_ = r.c.Close()
	if err := r.node.Close(ctxT(r.t)); err != nil {
		r.t.Fatalf("close node: %v", err)
	}
	r.node, r.c = startNode(r.t, r.dir)
}

// TestIdempotentRetries: a retry with the same event ids and the same expected revision
// returns the first result and writes nothing twice; for exact revisions and no_stream
// this holds across a restart, because it is checked against the index.
func TestIdempotentRetries(t *testing.T) {
	cases := []struct {
		name    string
		first   esdb.ExpectedRevision // for the write that is retried
		setup   int                   // events written before it
		restart bool
	}{
		{"no_stream", esdb.NoStream{}, 0, false},
		{"no_stream after restart", esdb.NoStream{}, 0, true},
		{"exact", esdb.Revision(2), 3, false},
		{"exact after restart", esdb.Revision(2), 3, true},
		{"any recent", esdb.Any{}, 3, false},
		{"any on a new stream", esdb.Any{}, 0, false},
		{"stream_exists recent", esdb.StreamExists{}, 3, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRestartable(t)
			stream := "idem"
			if tc.setup > 0 {
				mustAppend(t, r.c, stream, esdb.NoStream{}, events(tc.setup, "Setup")...)
			}
			evs := events(4, "Retried")
			first := mustAppend(t, r.c, stream, tc.first, evs...)
			if tc.restart {
				r.restart()
			}
			for try := range 3 {
				again, err := r.c.AppendToStream(ctxT(t), stream, esdb.AppendToStreamOptions{ExpectedRevision: tc.first}, evs...)
				if err != nil {
					t.Fatalf("retry %d: %v", try, err)
				}
				if *again != *first {
					t.Fatalf("retry %d = %+v, first = %+v", try, *again, *first)
				}
			}
			got := mustRead(t, r.c, stream, esdb.ReadStreamOptions{}, 100)
			if len(got) != tc.setup+len(evs) {
				t.Fatalf("stream has %d events, want %d", len(got), tc.setup+len(evs))
			}
			if !slices.Equal(ids(got[tc.setup:]), dataIDs(evs)) {
				t.Fatalf("stream ids %v, want %v", ids(got[tc.setup:]), dataIDs(evs))
			}
			all := userEvents(readAll(t, r.c, esdb.ReadAllOptions{}, 1000))
			if len(all) != tc.setup+len(evs) {
				t.Fatalf("$all has %d user events, want %d", len(all), tc.setup+len(evs))
			}
		})
	}
}

// TestIdempotencyPartialOverlap: a retry that only partly matches what was written is a
// wrong expected version, and writes nothing.
func TestIdempotencyPartialOverlap(t *testing.T) {
	node, c := startNode(t, "")
	evs := events(2, "T")
	mustAppend(t, c, "overlap", esdb.NoStream{}, evs...)
	before := node.DB.LastPosition()
	_, err := c.AppendToStream(ctxT(t), "overlap", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, append(slices.Clone(evs), jsonEvent("T", 3))...)
	wantCode(t, err, esdb.ErrorCodeWrongExpectedVersion, "partly idempotent retry")
	// A retry under a different expected revision is not a retry.
	_, err = c.AppendToStream(ctxT(t), "overlap", esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(0)}, evs...)
	wantCode(t, err, esdb.ErrorCodeWrongExpectedVersion, "same ids, other revision")
	if node.DB.LastPosition() != before {
		t.Fatalf("a refused append wrote something")
	}
}

// TestConcurrentAppendersRace: many writers race on one stream with the same expected
// revision; exactly one wins each revision, the rest get wrong expected version.
func TestConcurrentAppendersRace(t *testing.T) {
	_, c := startNode(t, "")
	const writers, rounds = 24, 15
	stream := "race"
	var winners []uuid.UUID
	for round := range rounds {
		var exp esdb.ExpectedRevision = esdb.NoStream{}
		if round > 0 {
			exp = esdb.Revision(uint64(round - 1))
		}
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			won  []uuid.UUID
			lost int
			errs []error
		)
		start := make(chan struct{})
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ev := jsonEvent("Raced", map[string]int{"round": round, "writer": w})
				<-start
				res, err := c.AppendToStream(context.Background(), stream, esdb.AppendToStreamOptions{ExpectedRevision: exp}, ev)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					if res.NextExpectedVersion != uint64(round) {
						errs = append(errs, fmt.Errorf("winner got revision %d in round %d", res.NextExpectedVersion, round))
					}
					won = append(won, ev.EventID)
				case errCode(err) == esdb.ErrorCodeWrongExpectedVersion:
					lost++
				default:
					errs = append(errs, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("round %d: %v", round, errs)
		}
		if len(won) != 1 || lost != writers-1 {
			t.Fatalf("round %d: %d winners and %d losers, want 1 and %d", round, len(won), lost, writers-1)
		}
		winners = append(winners, won[0])
	}
	got := mustRead(t, c, stream, esdb.ReadStreamOptions{}, 1000)
	if !slices.Equal(ids(got), winners) {
		t.Fatalf("stream holds %v, winners were %v", ids(got), winners)
	}
}

// TestConcurrentAppendersAny: many writers with expected any on one stream; every event
// lands once, revisions are dense.
func TestConcurrentAppendersAny(t *testing.T) {
	_, c := startNode(t, "")
	const writers, each = 32, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if _, err := c.AppendToStream(context.Background(), "any-race", esdb.AppendToStreamOptions{}, jsonEvent("T", 1)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := mustRead(t, c, "any-race", esdb.ReadStreamOptions{}, 10000)
	if len(got) != writers*each {
		t.Fatalf("%d events, want %d", len(got), writers*each)
	}
	seen := map[uuid.UUID]bool{}
	for i, e := range got {
		if e.Event.EventNumber != uint64(i) || seen[e.Event.EventID] {
			t.Fatalf("event %d: revision %d, duplicate %v", i, e.Event.EventNumber, seen[e.Event.EventID])
		}
		seen[e.Event.EventID] = true
	}
}

func proposed(id uuid.UUID, typ string) *api.AppendReq {
	return &api.AppendReq{Content: &api.AppendReq_ProposedMessage_{ProposedMessage: &api.AppendReq_ProposedMessage{
		Id:       &shared.UUID{Value: &shared.UUID_String_{String_: id.String()}},
		Metadata: map[string]string{"type": typ, "content-type": "application/json"},
		Data:     []byte(`{}`),
	}}}
}

func appendOptions(stream string) *api.AppendReq {
	return &api.AppendReq{Content: &api.AppendReq_Options_{Options: &api.AppendReq_Options{
		StreamIdentifier:       &shared.StreamIdentifier{StreamName: []byte(stream)},
		ExpectedStreamRevision: &api.AppendReq_Options_Any{Any: &shared.Empty{}},
	}}}
}

// rawAppend sends msgs on one Append call of the generated client.
func rawAppend(t testing.TB, raw api.StreamsClient, msgs ...*api.AppendReq) (*api.AppendResp, error) {
	t.Helper()
	call, err := raw.Append(ctxT(t))
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if err := call.Send(m); err != nil {
			break // the server answered early; CloseAndRecv has the status
		}
	}
	return call.CloseAndRecv()
}

// TestAppendBadInput: malformed requests get InvalidArgument with a message that says
// what is wrong, and nothing is written.
func TestAppendBadInput(t *testing.T) {
	node, c := startNode(t, "")
	mustAppend(t, c, "bad", esdb.NoStream{}, events(1, "T")...)
	raw := rawStreams(t, node)
	withMeta := func(meta map[string]string) *api.AppendReq {
		m := proposed(uuid.New(), "T")
		m.GetProposedMessage().Metadata = meta
		return m
	}
	withID := func(id *shared.UUID) *api.AppendReq {
		m := proposed(uuid.New(), "T")
		m.GetProposedMessage().Id = id
		return m
	}
	noKind := appendOptions("bad")
	noKind.GetOptions().ExpectedStreamRevision = nil
	cases := []struct {
		name string
		msgs []*api.AppendReq
		want string // in the error message
	}{
		{"empty stream name", []*api.AppendReq{appendOptions(""), proposed(uuid.New(), "T")}, "stream"},
		{"$all", []*api.AppendReq{appendOptions("$all"), proposed(uuid.New(), "T")}, "$all"},
		{"missing options", []*api.AppendReq{proposed(uuid.New(), "T")}, "options"},
		{"options twice", []*api.AppendReq{appendOptions("bad"), appendOptions("bad")}, "options"},
		{"unknown expected revision kind", []*api.AppendReq{noKind, proposed(uuid.New(), "T")}, "expected"},
		{"string uuid that is not a uuid", []*api.AppendReq{appendOptions("bad"), withID(&shared.UUID{Value: &shared.UUID_String_{String_: "not-a-uuid"}})}, "not-a-uuid"},
		{"empty string uuid", []*api.AppendReq{appendOptions("bad"), withID(&shared.UUID{Value: &shared.UUID_String_{String_: ""}})}, "id"},
		{"missing uuid", []*api.AppendReq{appendOptions("bad"), withID(nil)}, "id"},
		{"missing type", []*api.AppendReq{appendOptions("bad"), withMeta(map[string]string{"content-type": "application/json"})}, "type"},
		{"empty type", []*api.AppendReq{appendOptions("bad"), withMeta(map[string]string{"type": "", "content-type": "application/json"})}, "type"},
		{"missing content-type", []*api.AppendReq{appendOptions("bad"), withMeta(map[string]string{"type": "T"})}, "content-type"},
		{"good event then a bad one", []*api.AppendReq{appendOptions("bad"), proposed(uuid.New(), "T"), withID(&shared.UUID{Value: &shared.UUID_String_{String_: "zzz"}})}, "zzz"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := node.DB.LastPosition()
			resp, err := rawAppend(t, raw, tc.msgs...)
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("append = %v, %v; want InvalidArgument", resp, err)
			}
			if msg := status.Convert(err).Message(); !strings.Contains(msg, tc.want) {
				t.Errorf("error message %q does not mention %q", msg, tc.want)
			}
			if node.DB.LastPosition() != before {
				t.Fatalf("a refused append wrote something")
			}
		})
	}
	got := mustRead(t, c, "bad", esdb.ReadStreamOptions{}, 100)
	if len(got) != 1 {
		t.Fatalf("stream has %d events after refused appends, want 1", len(got))
	}
}

func TestAppendEmptyStreamNameWithClient(t *testing.T) {
	node, c := startNode(t, "")
	before := node.DB.LastPosition()
	_, err := c.AppendToStream(ctxT(t), "", esdb.AppendToStreamOptions{}, events(1, "T")...)
	if err == nil {
		t.Fatal("append to an empty stream name succeeded")
	}
	if node.DB.LastPosition() != before {
		t.Fatal("append to an empty stream name wrote something")
	}
}

// TestAppendOversizedEvent: an event over 16 MiB is refused as a real node refuses it,
// and nothing of its batch is written.
func TestAppendOversizedEvent(t *testing.T) {
	node, c := startNode(t, "")
	before := node.DB.LastPosition()
	small := jsonEvent("Small", 1)
	big := esdb.EventData{EventID: uuid.New(), EventType: "Big", ContentType: esdb.ContentTypeBinary, Data: make([]byte, eventdb.DefaultMaxEventSize+1)}
	_, err := c.AppendToStream(ctxT(t), "big", esdb.AppendToStreamOptions{}, small, big)
	if err == nil {
		t.Fatal("oversized event accepted")
	}
	if st, ok := status.FromError(errors.Unwrap(err)); !ok || st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), big.EventID.String()) {
		t.Errorf("error %v, want InvalidArgument naming event %s", err, big.EventID)
	}
	if node.DB.LastPosition() != before {
		t.Fatal("an oversized batch wrote something")
	}
	_, err = readStream(t, c, "big", esdb.ReadStreamOptions{}, 10)
	wantCode(t, err, esdb.ErrorCodeResourceNotFound, "read after refused append")
	// Just under the limit (data + metadata + type) is accepted.
	fits := esdb.EventData{EventID: uuid.New(), EventType: "Big", ContentType: esdb.ContentTypeBinary, Data: make([]byte, eventdb.DefaultMaxEventSize-len("Big"))}
	mustAppend(t, c, "big", esdb.NoStream{}, fits)
	got := mustRead(t, c, "big", esdb.ReadStreamOptions{}, 10)
	if len(got) != 1 || len(got[0].Event.Data) != len(fits.Data) {
		t.Fatalf("read back %d events", len(got))
	}
}
