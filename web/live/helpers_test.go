package live_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/gorilla/websocket"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/journeys"
	"github.com/gateledger/gateledger/web/live"
)

type journeysMeta = journeys.CommandMeta

const testOrigin = "https://ledger.example.org"

// counts is a Metrics that remembers what it was told.
type counts struct {
	mu                      sync.Mutex
	connected, disconnected int
	dropped                 map[string]int
}

func (m *counts) Connected()    { m.mu.Lock(); m.connected++; m.mu.Unlock() }
func (m *counts) Disconnected() { m.mu.Lock(); m.disconnected++; m.mu.Unlock() }
func (m *counts) Dropped(reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dropped == nil {
		m.dropped = map[string]int{}
	}
	m.dropped[reason]++
}

func (m *counts) droppedFor(reason string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dropped[reason]
}

// env is a real embedded store, the command service, built-in tokens and the
// live handler on a loopback server.
type env struct {
	t        *testing.T
	store    *eventstore.Conn
	svc      *journeys.Service
	tokens   *auth.Tokens
	sessions map[string]auth.Principal
	h        *live.Handler
	srv      *httptest.Server
	metrics  *counts
	n        int
	clock    time.Time
	mu       sync.Mutex
}

// newEnv starts everything; tune changes the handler's config, listen the
// server's listener.
func newEnv(t *testing.T, tune func(*live.Config), listen func(net.Listener) net.Listener) *env {
	t.Helper()
	e := &env{t: t, store: eventlogtest.Store(t), metrics: &counts{}, sessions: map[string]auth.Principal{},
		clock: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	e.svc = &journeys.Service{Store: e.store, Policy: aggregates.DefaultPolicy(nil), Logger: eventlogtest.Logger(),
		Clock: func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }}
	e.tokens = auth.NewTokens(e.store.Client, auth.TokensConfig{Logger: eventlogtest.Logger()})
	authn := &auth.Authenticator{Tokens: e.tokens, Logger: eventlogtest.Logger(), Session: func(r *http.Request) (auth.Principal, bool) {
		c, err := r.Cookie("session")
		if err != nil {
			return auth.Principal{}, false
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		p, ok := e.sessions[c.Value]
		return p, ok
	}}
	cfg := live.Config{Client: e.store.Client, Auth: authn, AllowedOrigins: []string{testOrigin}, Logger: testLogger(),
		Metrics: e.metrics, CheckpointInterval: 50 * time.Millisecond, PingInterval: time.Second, WriteWait: 2 * time.Second}
	if tune != nil {
		tune(&cfg)
	}
	e.h = live.New(cfg)
	e.srv = httptest.NewUnstartedServer(e.h)
	if listen != nil {
		e.srv.Listener = listen(e.srv.Listener)
	}
	e.srv.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.h.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		e.srv.Close()
	})
	return e
}

// token issues a built-in token.
func (e *env) token(role auth.Role, org string) string {
	e.t.Helper()
	tok, _, err := e.tokens.Create(context.Background(), role, org, fmt.Sprintf("%s %s", role, org), "test", time.Time{})
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// do records a command for noms as a user of org.
func (e *env) do(noms, org string, cmd aggregates.Command) journeys.Result {
	e.t.Helper()
	e.mu.Lock()
	e.n++
	n := e.n
	e.mu.Unlock()
	res, err := e.svc.Handle(context.Background(), noms, cmd, journeys.CommandMeta{
		UserID: "user-" + org, Role: "STAFF", Organisation: org, Source: aggregates.SourceAPI,
		CorrelationID: fmt.Sprintf("corr-%d", n), IdempotencyKey: fmt.Sprintf("key-%d", n)})
	if err != nil {
		e.t.Fatalf("%s for %s: %v", cmd.CommandName(), noms, err)
	}
	return res
}

// lastPosition is the store's last position now.
func (e *env) lastPosition() uint64 {
	e.t.Helper()
	p, err := eventlog.LastPosition(context.Background(), e.store.Client)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) url() string { return "ws" + strings.TrimPrefix(e.srv.URL, "http") }

// dial opens a connection with a bearer token (when set) and extra headers.
func (e *env) dial(token string, hdr http.Header) (*websocket.Conn, *http.Response, error) {
	if hdr == nil {
		hdr = http.Header{}
	}
	if token != "" {
		hdr.Set("Authorization", "Bearer "+token)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	return d.Dial(e.url(), hdr)
}

// connect dials with a token and fails the test if that does not work.
func (e *env) connect(token string) *client {
	e.t.Helper()
	ws, resp, err := e.dial(token, nil)
	if err != nil {
		e.t.Fatalf("dial: %v (%v)", err, status(resp))
	}
	e.t.Cleanup(func() { _ = ws.Close() })
	return &client{t: e.t, ws: ws}
}

func status(r *http.Response) string {
	if r == nil {
		return "no response"
	}
	b, _ := io.ReadAll(r.Body)
	return fmt.Sprintf("%d %s", r.StatusCode, b)
}

// client is a test client on a real gorilla connection.
type client struct {
	t  *testing.T
	ws *websocket.Conn
}

func (c *client) subscribe(msg string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		c.t.Fatal(err)
	}
}

// next reads one message.
func (c *client) next(timeout time.Duration) (live.ServerMessage, []byte, error) {
	_ = c.ws.SetReadDeadline(time.Now().Add(timeout))
	_, b, err := c.ws.ReadMessage()
	if err != nil {
		return live.ServerMessage{}, nil, err
	}
	var m live.ServerMessage
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("server sent %q: %v", b, err)
	}
	return m, b, nil
}

// session is what a client read: every message in order.
type session struct {
	// from is the exclusive start the server confirmed (0 for "start").
	from       uint64
	subscribed bool
	caughtUp   uint64
	sawCaught  bool
	events     []live.EventMessage
	// position is the latest position received (event, caught-up, checkpoint).
	position uint64
}

func (s *session) positions() []uint64 {
	out := make([]uint64, len(s.events))
	for i, ev := range s.events {
		out[i] = ev.Position
	}
	return out
}

// readUntil reads until the client has caught up and received a position at
// or beyond until, checking the protocol's order on the way.
func (c *client) readUntil(s *session, until uint64) {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !s.sawCaught || s.position < until {
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out at position %d waiting for %d (caught up %v)", s.position, until, s.sawCaught)
		}
		m, b, err := c.next(10 * time.Second)
		if err != nil {
			c.t.Fatalf("read at position %d waiting for %d: %v", s.position, until, err)
		}
		c.check(s, m, b)
	}
}

// check applies one message to s and checks the protocol's order.
func (c *client) check(s *session, m live.ServerMessage, b []byte) {
	c.t.Helper()
	if m.Type != live.TypeSubscribed && !s.subscribed {
		c.t.Fatalf("%s before subscribed: %s", m.Type, b)
	}
	switch m.Type {
	case live.TypeSubscribed:
		if s.subscribed {
			c.t.Fatal("subscribed twice")
		}
		s.subscribed = true
		var sub struct{ From json.RawMessage }
		if err := json.Unmarshal(b, &sub); err != nil {
			c.t.Fatal(err)
		}
		if string(sub.From) != `"start"` {
			if err := json.Unmarshal(sub.From, &s.from); err != nil {
				c.t.Fatalf("subscribed from %s: %v", sub.From, err)
			}
			s.position = s.from
		}
	case live.TypeEvent:
		var ev live.EventMessage
		if err := json.Unmarshal(b, &ev); err != nil {
			c.t.Fatal(err)
		}
		if ev.Position <= s.position {
			c.t.Fatalf("event at %d after position %d", ev.Position, s.position)
		}
		s.events = append(s.events, ev)
		s.position = ev.Position
	case live.TypeCaughtUp:
		if s.sawCaught {
			c.t.Fatal("caught-up twice")
		}
		s.sawCaught, s.caughtUp = true, m.Position
		s.position = max(s.position, m.Position)
	case live.TypeCheckpoint:
		if !s.sawCaught {
			c.t.Fatal("checkpoint before caught-up")
		}
		if m.Position < s.position {
			c.t.Fatalf("checkpoint %d behind position %d", m.Position, s.position)
		}
		s.position = m.Position
	case live.TypeError:
		c.t.Fatalf("error: %s", b)
	default:
		c.t.Fatalf("unknown message %s", b)
	}
}

// closeOf reads until the connection closes and returns its close error.
func (c *client) closeOf(timeout time.Duration) *websocket.CloseError {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		_ = c.ws.SetReadDeadline(deadline)
		_, _, err := c.ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce
		}
		c.t.Fatalf("connection ended without a close frame: %v", err)
	}
	c.t.Fatal("connection still open")
	return nil
}

// want is the reference rule: every event of $all after position from, in
// order, that p may see by MaySeeJourneyEvent on journeys folded from
// scratch (or MaySeeOtherStream), restricted to people and types.
func (e *env) want(p auth.Principal, from uint64, people, types []string) []uint64 {
	e.t.Helper()
	ctx := context.Background()
	rs, err := e.store.Client.ReadAll(ctx, esdb.ReadAllOptions{From: esdb.Start{}}, 1<<20)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rs.Close()
	in := func(list []string, s string) bool {
		if len(list) == 0 {
			return true
		}
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	journeysByNOMS := map[string]aggregates.Journey{}
	var out []uint64
	for {
		re, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			e.t.Fatal(err)
		}
		ev := re.OriginalEvent()
		if strings.HasPrefix(ev.EventType, "$") {
			continue
		}
		visible := false
		noms, isJourney := aggregates.NOMSFromStream(ev.StreamID)
		if isJourney {
			rec, err := eventlog.FromRecorded(ev)
			if err != nil {
				e.t.Fatal(err)
			}
			d, err := eventlog.DecodeJourneyEvent(rec)
			if err != nil {
				e.t.Fatal(err)
			}
			before := journeysByNOMS[noms]
			after := aggregates.Evolve(before, d)
			journeysByNOMS[noms] = after
			visible = live.MaySeeJourneyEvent(p, before, after) && in(people, noms)
		} else {
			visible = len(people) == 0 && live.MaySeeOtherStream(p, ev.StreamID)
		}
		if visible && ev.Position.Commit > from && in(types, ev.EventType) {
			out = append(out, ev.Position.Commit)
		}
	}
}

// principal of a token, as the server sees it.
func (e *env) principal(token string) auth.Principal {
	e.t.Helper()
	p, err := e.tokens.Verify(context.Background(), token)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func day(m time.Month, d, h int) time.Time { return time.Date(2022, m, d, h, 0, 0, 0, time.UTC) }

// handoverJourney: received at Leeds in 2022 (unified model), handed to NPS
// region C (Yorkshire and the Humber), released, then handed to NPS region D.
// It returns the positions of the steps that matter.
type handoverSteps struct {
	requestToC05, acceptC05, requestToNPSC, acceptNPSC uint64
}

func (e *env) handoverJourney(noms string, s *handoverSteps, from, to int) {
	steps := []func(){
		func() {
			e.do(noms, "LEI", aggregates.ReceivePrisoner{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: "LEI", At: day(3, 1, 9)})
		},
		func() { e.do(noms, "LEI", aggregates.AssessRisk{Level: aggregates.RoSHLow, At: day(3, 2, 9)}) },
		func() {
			s.requestToC05 = e.do(noms, "LEI", aggregates.ChangeReleaseArea{Area: "NPS-C", At: day(3, 10, 9)}).Position.Commit
		},
		func() {
			s.acceptC05 = e.do(noms, "NPS-C", aggregates.AcceptHandover{At: day(3, 12, 9)}).Position.Commit
		},
		func() {
			e.do(noms, "LEI", aggregates.ReleasePrisoner{Kind: aggregates.ReleaseOnLicence, Prison: "LEI", At: day(7, 15, 9)})
		},
		func() {
			s.requestToNPSC = e.do(noms, "NPS-C", aggregates.RequestHandover{To: "NPS-D", Reason: "unified probation service", At: day(7, 16, 9)}).Position.Commit
		},
		func() {
			s.acceptNPSC = e.do(noms, "NPS-D", aggregates.AcceptHandover{At: day(7, 31, 9)}).Position.Commit
		},
		func() {
			e.do(noms, "NPS-D", aggregates.RecordSupervisionContact{By: "NPS-D", Kind: "OFFICE", Note: "first", At: day(8, 2, 9)})
		},
		func() { e.do(noms, "NPS-D", aggregates.AssessRisk{Level: aggregates.RoSHMedium, At: day(8, 3, 9)}) },
	}
	for _, step := range steps[from:min(to, len(steps))] {
		step()
	}
}

// handoverStepCount is how many steps handoverJourney has.
const handoverStepCount = 9

// otherJourney: a person at another prison who stays there.
func (e *env) otherJourney(noms, prison string, needs int) {
	e.do(noms, prison, aggregates.ReceivePrisoner{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: prison, At: day(3, 1, 9)})
	for i := range needs {
		e.do(noms, prison, aggregates.AssessRisk{Level: aggregates.RoSHLow, At: day(3, 2, 9).Add(time.Duration(i) * time.Minute)})
	}
}

func testLogger() *slog.Logger {
	if os.Getenv("LIVE_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return eventlogtest.Logger()
}
