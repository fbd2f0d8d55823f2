package live_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/web/live"
)

const (
	handed = "B2345CD" // handed from LEI to NPS-C to NPS-C
	stays  = "A1111AA" // stays at MDI
)

// TestHistoryThenLive: each principal gets subscribed, the history it may
// see, caught-up, then live events, ordered, with no gap: exactly what the
// reference rule gives on a full read of $all.
func TestHistoryThenLive(t *testing.T) {
	e := newEnv(t, nil, nil)
	var steps handoverSteps
	e.otherJourney(stays, "MDI", 3)
	e.handoverJourney(handed, &steps, 0, 3)
	mid := e.lastPosition()
	e.handoverJourney(handed, &steps, 3, 5)

	tests := []struct {
		name string
		role auth.Role
		org  string
		from string
	}{
		{"inspector from start", auth.RoleInspector, "", `"start"`},
		{"inspector from a position", auth.RoleInspector, "", fmt.Sprint(mid)},
		{"inspector from now", auth.RoleInspector, "", `"now"`},
		{"provider NPS-C from start", auth.RoleProvider, "NPS-C", `"start"`},
		{"provider NPS-C from a position", auth.RoleProvider, "NPS-C", fmt.Sprint(mid)},
		{"provider NPS-C from now", auth.RoleProvider, "NPS-D", `"now"`},
		{"provider NPS-B from start", auth.RoleProvider, "NPS-B", `"start"`},
		{"prison LEI from start", auth.RolePrison, "LEI", `"start"`},
		{"prison MDI from start", auth.RolePrison, "MDI", `"start"`},
	}
	type running struct {
		c *client
		s *session
		p auth.Principal
	}
	runs := make([]running, len(tests))
	for i, tt := range tests {
		tok := e.token(tt.role, tt.org)
		c := e.connect(tok)
		c.subscribe(`{"type":"subscribe","from":` + tt.from + `}`)
		s := &session{}
		c.readUntil(s, 0) // history, then caught-up
		if s.caughtUp < s.from {
			t.Errorf("%s: caught up at %d before its start %d", tt.name, s.caughtUp, s.from)
		}
		runs[i] = running{c: c, s: s, p: e.principal(tok)}
	}
	e.handoverJourney(handed, &steps, 5, handoverStepCount)
	e.do(stays, "MDI", aggregates.AssessRisk{Level: aggregates.RoSHLow, At: day(3, 4, 9)})
	end := e.lastPosition()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runs[i]
			r.c.t = t
			r.c.readUntil(r.s, end)
			want := e.want(r.p, r.s.from, nil, nil)
			if got := r.s.positions(); !slices.Equal(got, want) {
				t.Errorf("positions\n got %v\nwant %v", got, want)
			}
			for _, ev := range r.s.events {
				if ev.Stream != "journey-"+ev.NOMS || ev.EventType == "" || ev.EventID == "" || ev.OccurredAt.IsZero() ||
					ev.RecordedAt.IsZero() || ev.Who == "" || len(ev.Data) < 2 || ev.Data[0] != '{' {
					t.Errorf("incomplete event %+v", ev)
				}
			}
		})
	}
	if n := len(runs[0].s.events); n < 15 {
		t.Errorf("inspector from start got %d events; the scenario records more", n)
	}
}

// TestReconnect: a client that disconnects and reconnects from the last
// position it received, while events are being recorded, ends with exactly
// the events a full read gives: nothing lost, nothing twice.
//
// MaxJourneys is 1, so that the two people evict each other from the fold
// cache and are folded again from the store: the cache changes the cost,
// never the answer.
func TestReconnect(t *testing.T) {
	e := newEnv(t, func(c *live.Config) { c.MaxJourneys = 1 }, nil)
	var steps handoverSteps
	e.handoverJourney(handed, &steps, 0, 4)
	e.otherJourney(stays, "MDI", 2)
	for _, who := range []struct {
		role auth.Role
		org  string
	}{{auth.RoleInspector, ""}, {auth.RoleProvider, "NPS-C"}, {auth.RolePrison, "MDI"}} {
		t.Run(string(who.role)+who.org, func(t *testing.T) {
			tok := e.token(who.role, who.org)
			p := e.principal(tok)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // keep recording while the client comes and goes
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					_, err := e.svc.Handle(context.Background(), stays, aggregates.AssessRisk{Level: aggregates.RoSHLow, At: day(3, 5, 9).Add(time.Duration(i) * time.Second)},
						metaFor("MDI", fmt.Sprintf("%s-%d", p.ID, i)))
					if err != nil {
						t.Error(err)
						return
					}
					time.Sleep(2 * time.Millisecond)
				}
			}()
			var all []uint64
			from := `"start"`
			for round := range 4 {
				c := e.connect(tok)
				c.subscribe(`{"type":"subscribe","from":` + from + `}`)
				s := &session{}
				// Read a few messages, then drop the connection mid-stream.
				for n := 0; n < 3+round || !s.subscribed; n++ {
					m, b, err := c.next(10 * time.Second)
					if err != nil {
						t.Fatal(err)
					}
					c.check(s, m, b)
				}
				all = append(all, s.positions()...)
				if s.position > 0 {
					from = fmt.Sprint(s.position)
				}
				_ = c.ws.Close()
			}
			close(stop)
			wg.Wait()
			end := e.lastPosition()
			c := e.connect(tok)
			c.subscribe(`{"type":"subscribe","from":` + from + `}`)
			s := &session{}
			c.readUntil(s, end)
			all = append(all, s.positions()...)
			want := e.want(p, 0, nil, nil)
			if !slices.Equal(all, want) {
				t.Errorf("across reconnects\n got %v\nwant %v", all, want)
			}
		})
	}
}

// TestFilters: people and event types narrow what is sent; visibility is
// still decided on the whole journey.
func TestFilters(t *testing.T) {
	e := newEnv(t, nil, nil)
	var steps handoverSteps
	e.handoverJourney(handed, &steps, 0, handoverStepCount)
	e.otherJourney(stays, "MDI", 2)
	e.otherJourney("C3333CC", "LEI", 1)
	end := e.lastPosition()
	tests := []struct {
		name   string
		role   auth.Role
		org    string
		people []string
		types  []string
	}{
		{"inspector, one person", auth.RoleInspector, "", []string{stays}, nil},
		{"inspector, two people, one type", auth.RoleInspector, "", []string{stays, handed}, []string{"RiskAssessed"}},
		{"inspector, types", auth.RoleInspector, "", nil, []string{"HandoverRequested", "HandoverAccepted"}},
		{"provider, handed person", auth.RoleProvider, "NPS-D", []string{handed}, nil},
		{"provider, someone else's person", auth.RoleProvider, "NPS-D", []string{stays}, nil},
		{"provider, handover types", auth.RoleProvider, "NPS-C", nil, []string{"HandoverAccepted"}},
		{"prison, a type and person", auth.RolePrison, "LEI", []string{handed, "C3333CC"}, []string{"PrisonerReceived", "PrisonerReleased"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := e.token(tt.role, tt.org)
			c := e.connect(tok)
			msg := map[string]any{"type": "subscribe", "from": "start", "people": tt.people, "eventTypes": tt.types}
			if err := c.ws.WriteJSON(msg); err != nil {
				t.Fatal(err)
			}
			s := &session{}
			c.readUntil(s, end)
			want := e.want(e.principal(tok), 0, tt.people, tt.types)
			if got := s.positions(); !slices.Equal(got, want) {
				t.Errorf("\n got %v\nwant %v", got, want)
			}
			for _, ev := range s.events {
				if (tt.people != nil && !slices.Contains(tt.people, ev.NOMS)) || (tt.types != nil && !slices.Contains(tt.types, ev.EventType)) {
					t.Errorf("unwanted event %s %s", ev.NOMS, ev.EventType)
				}
			}
		})
	}
}

// TestHandover: the CRC (A) sees the case from the handover to it until the
// handover away from it is accepted, that acceptance included, and nothing
// after; the NPS region (B) nothing before the handover to it is requested
// and everything after; a third provider never anything. Part of it is
// history, part live.
func TestHandover(t *testing.T) {
	e := newEnv(t, nil, nil)
	var steps handoverSteps
	e.otherJourney(stays, "MDI", 1)
	e.handoverJourney(handed, &steps, 0, 4) // up to NPS-C accepting
	a := e.connect(e.token(auth.RoleProvider, "NPS-C"))
	b := e.connect(e.token(auth.RoleProvider, "NPS-D"))
	third := e.connect(e.token(auth.RoleProvider, "NPS-B"))
	var sa, sb, sc session
	for _, x := range []struct {
		c *client
		s *session
	}{{a, &sa}, {b, &sb}, {third, &sc}} {
		x.c.subscribe(`{"type":"subscribe","from":"start"}`)
		x.c.readUntil(x.s, 0)
	}
	e.handoverJourney(handed, &steps, 4, handoverStepCount) // release, request to NPS-C, accept, contact, risk
	end := e.lastPosition()
	a.readUntil(&sa, end)
	b.readUntil(&sb, end)
	third.readUntil(&sc, end)

	if len(sa.events) == 0 || sa.events[0].Position != steps.requestToC05 || sa.events[0].EventType != aggregates.TypeHandoverRequested {
		t.Errorf("A's first event: %+v; want the handover to it at %d", sa.events, steps.requestToC05)
	}
	if last := sa.events[len(sa.events)-1]; last.Position != steps.acceptNPSC || last.EventType != aggregates.TypeHandoverAccepted {
		t.Errorf("A's last event is %s at %d; want HandoverAccepted at %d", last.EventType, last.Position, steps.acceptNPSC)
	}
	if len(sb.events) == 0 || sb.events[0].Position != steps.requestToNPSC || sb.events[0].EventType != aggregates.TypeHandoverRequested {
		t.Errorf("B's first event: %+v; want the handover to it at %d", sb.events, steps.requestToNPSC)
	}
	if sb.events[len(sb.events)-1].Position != end {
		t.Errorf("B's last event is at %d; want every event up to %d", sb.events[len(sb.events)-1].Position, end)
	}
	for _, ev := range sb.events {
		if ev.Position < steps.requestToNPSC {
			t.Errorf("B got %s at %d, before the handover to it", ev.EventType, ev.Position)
		}
	}
	if len(sc.events) != 0 {
		t.Errorf("a third provider got %d events", len(sc.events))
	}
	for _, x := range []struct {
		org string
		s   *session
	}{{"NPS-C", &sa}, {"NPS-D", &sb}, {"NPS-B", &sc}} {
		for _, ev := range x.s.events {
			if ev.NOMS != handed {
				t.Errorf("%s got an event of %s", x.org, ev.NOMS)
			}
		}
	}
	pa := auth.Principal{ID: "x", Role: auth.RoleProvider, Org: "NPS-C"}
	pb := auth.Principal{ID: "x", Role: auth.RoleProvider, Org: "NPS-D"}
	if !slices.Equal(sa.positions(), e.want(pa, 0, nil, nil)) || !slices.Equal(sb.positions(), e.want(pb, 0, nil, nil)) {
		t.Errorf("A %v B %v differ from the reference rule", sa.positions(), sb.positions())
	}
}

// TestInspectorStreams: inspectors see every journey, the access log and
// dead letters, never the token stream; nobody else sees those streams.
func TestInspectorStreams(t *testing.T) {
	e := newEnv(t, nil, nil)
	var steps handoverSteps
	e.handoverJourney(handed, &steps, 0, 3)
	inspector := e.token(auth.RoleInspector, "")
	provider := e.token(auth.RoleProvider, "NPS-C")
	log := auth.NewAccessLog(e.store.Client, auth.AccessLogConfig{Logger: eventlogtest.Logger()})
	if err := log.Record(context.Background(), e.principal(inspector), "read journey", handed); err != nil {
		t.Fatal(err)
	}
	if err := log.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	end := e.lastPosition()
	streams := func(tok string) map[string]int {
		c := e.connect(tok)
		c.subscribe(`{"type":"subscribe","from":"start"}`)
		s := &session{}
		c.readUntil(s, end)
		if !slices.Equal(s.positions(), e.want(e.principal(tok), 0, nil, nil)) {
			t.Errorf("%v differs from the reference rule %v", s.positions(), e.want(e.principal(tok), 0, nil, nil))
		}
		out := map[string]int{}
		for _, ev := range s.events {
			kind, _, _ := strings.Cut(ev.Stream, "-")
			out[kind]++
		}
		return out
	}
	got := streams(inspector)
	if got["journey"] != 4 || got["access"] != 1 || got["auth"] != 0 || len(got) != 2 {
		t.Errorf("inspector's streams: %v", got)
	}
	if got := streams(provider); got["access"] != 0 || got["auth"] != 0 {
		t.Errorf("provider's streams: %v", got)
	}
}

// TestUpgrade: who may open the feed.
func TestUpgrade(t *testing.T) {
	e := newEnv(t, nil, nil)
	provider := e.token(auth.RoleProvider, "NPS-C")
	feed := e.token(auth.RoleFeed, "")
	admin := e.token(auth.RoleAdmin, "")
	e.sessions["s1"] = auth.Principal{ID: "oidc:u1", Role: auth.RoleProvider, Org: "NPS-C"}
	cookie := func(h http.Header) http.Header { h.Set("Cookie", "session=s1"); return h }
	tests := []struct {
		name  string
		token string
		hdr   http.Header
		want  int
	}{
		{"no credential", "", http.Header{"Origin": {testOrigin}}, http.StatusUnauthorized},
		{"unknown token", "glt_nope_nope", nil, http.StatusUnauthorized},
		{"not a bearer", "", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, http.StatusUnauthorized},
		{"unknown session", "", http.Header{"Origin": {testOrigin}, "Cookie": {"session=zz"}}, http.StatusUnauthorized},
		{"bearer, no origin", provider, nil, http.StatusSwitchingProtocols},
		{"bearer, allowed origin", provider, http.Header{"Origin": {testOrigin}}, http.StatusSwitchingProtocols},
		{"bearer, allowed origin in capitals", provider, http.Header{"Origin": {"HTTPS://LEDGER.example.org"}}, http.StatusSwitchingProtocols},
		{"bearer, other origin", provider, http.Header{"Origin": {"https://evil.example"}}, http.StatusForbidden},
		{"bearer, null origin", provider, http.Header{"Origin": {"null"}}, http.StatusForbidden},
		{"no credential, other origin", "", http.Header{"Origin": {"https://evil.example"}}, http.StatusForbidden},
		{"session, allowed origin", "", cookie(http.Header{"Origin": {testOrigin}}), http.StatusSwitchingProtocols},
		{"session, other origin", "", cookie(http.Header{"Origin": {"http://ledger.example.org"}}), http.StatusForbidden},
		{"session, no origin", "", cookie(http.Header{}), http.StatusForbidden},
		{"feed role", feed, nil, http.StatusForbidden},
		{"admin role", admin, nil, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, resp, err := e.dial(tt.token, tt.hdr)
			if ws != nil {
				defer ws.Close()
			}
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.StatusCode != tt.want {
				t.Fatalf("status %s; want %d", status(resp), tt.want)
			}
			if tt.want == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without a challenge")
			}
			if tt.want == http.StatusSwitchingProtocols {
				c := &client{t: t, ws: ws}
				c.subscribe(`{"type":"subscribe"}`)
				s := &session{}
				c.readUntil(s, 0)
			}
		})
	}
}

// TestRefusedMessages: what the server does with messages it will not take.
func TestRefusedMessages(t *testing.T) {
	e := newEnv(t, nil, nil)
	tok := e.token(auth.RoleInspector, "")
	tests := []struct {
		name     string
		kind     int
		messages []string
		code     int
		errCode  string
		drop     string
	}{
		{"oversized", websocket.TextMessage, []string{`{"type":"subscribe","people":["` + strings.Repeat("A", 5000) + `"]}`}, websocket.CloseMessageTooBig, "", live.DropMessageTooBig},
		{"not JSON", websocket.TextMessage, []string{`hello`}, live.CloseBadRequest, live.CodeBadRequest, live.DropBadRequest},
		{"unknown field", websocket.TextMessage, []string{`{"type":"subscribe","since":1}`}, live.CloseBadRequest, live.CodeBadRequest, live.DropBadRequest},
		{"bad NOMS", websocket.TextMessage, []string{`{"type":"subscribe","people":["x"]}`}, live.CloseBadRequest, live.CodeBadRequest, live.DropBadRequest},
		{"binary", websocket.BinaryMessage, []string{`{"type":"subscribe"}`}, live.CloseBadRequest, live.CodeBadRequest, live.DropBadRequest},
		{"second subscribe", websocket.TextMessage, []string{`{"type":"subscribe"}`, `{"type":"subscribe"}`}, live.CloseBadRequest, live.CodeAlreadySubscribed, live.DropBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.metrics.droppedFor(tt.drop)
			c := e.connect(tok)
			for _, m := range tt.messages {
				if err := c.ws.WriteMessage(tt.kind, []byte(m)); err != nil {
					t.Fatal(err)
				}
			}
			var gotErr string
			var ce *websocketCloseError
			deadline := time.Now().Add(5 * time.Second)
			for ce == nil && time.Now().Before(deadline) {
				m, _, err := c.next(5 * time.Second)
				if err != nil {
					ce = asClose(t, err)
					break
				}
				if m.Type == live.TypeError {
					gotErr = m.Code
				}
			}
			if ce == nil || ce.Code != tt.code || !strings.Contains(ce.Text, "position=") && tt.code != websocket.CloseMessageTooBig {
				t.Errorf("close %+v; want code %d", ce, tt.code)
			}
			if gotErr != tt.errCode {
				t.Errorf("error code %q; want %q", gotErr, tt.errCode)
			}
			waitFor(t, func() bool { return e.metrics.droppedFor(tt.drop) == before+1 })
		})
	}
}

type websocketCloseError = websocket.CloseError

func asClose(t *testing.T, err error) *websocket.CloseError {
	t.Helper()
	ce, ok := err.(*websocket.CloseError)
	if !ok {
		t.Fatalf("connection ended without a close frame: %v", err)
	}
	return ce
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal("condition not met in time")
}

// smallBuffers is a loopback listener whose connections have a small send
// buffer from the start (set before listen, inherited by accepted sockets),
// so that a client that reads slowly pushes back on the server at once.
func smallBuffers(t *testing.T) net.Listener {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 2048) })
	}}
	l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestSlowClient: once live, a client that stops keeping up is closed with
// 4429 and the last position written, the drop is counted, and a fast
// client beside it gets everything meanwhile. The slow client reads nothing
// until it has been dropped, then reads what is left, close frame included.
func TestSlowClient(t *testing.T) {
	e := newEnv(t, func(c *live.Config) {
		c.SendBuffer, c.SlowClientWait, c.WriteWait = 16, time.Second, 10*time.Second
	},
		func(l net.Listener) net.Listener { _ = l.Close(); return smallBuffers(t) })
	tok := e.token(auth.RoleInspector, "")
	// The receive buffer is set before connecting, so the window the
	// client advertises is small from the first segment.
	nd := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048) })
	}}
	d := websocket.Dialer{NetDialContext: nd.DialContext, ReadBufferSize: 512}
	ws, resp, err := d.Dial(e.url(), http.Header{"Authorization": {"Bearer " + tok}})
	if err != nil {
		t.Fatalf("dial: %v %s", err, status(resp))
	}
	defer ws.Close()
	slow := &client{t: t, ws: ws}
	fast := e.connect(tok)
	for _, c := range []*client{slow, fast} {
		c.subscribe(`{"type":"subscribe","from":"now"}`)
		c.readUntil(&session{}, 0)
	}
	const events = 300
	fastGot := make(chan int, 1)
	go func() { // reads as fast as it can
		n := 0
		for n < events {
			_ = fast.ws.SetReadDeadline(time.Now().Add(20 * time.Second))
			_, b, err := fast.ws.ReadMessage()
			if err != nil {
				break
			}
			if strings.Contains(string(b), `"type":"event"`) {
				n++
			}
		}
		fastGot <- n
	}()
	type result struct {
		last uint64
		ce   *websocket.CloseError
		err  error
	}
	slowGot := make(chan result, 1)
	dropped := func() bool { return e.metrics.droppedFor(live.DropSlowClient) > 0 }
	go func() { // reads nothing until dropped
		for deadline := time.Now().Add(20 * time.Second); !dropped() && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		var r result
		for {
			_ = slow.ws.SetReadDeadline(time.Now().Add(20 * time.Second))
			_, b, err := slow.ws.ReadMessage()
			if err != nil {
				if ce, ok := err.(*websocket.CloseError); ok {
					r.ce = ce
				} else {
					r.err = err
				}
				slowGot <- r
				return
			}
			var m live.ServerMessage
			if json.Unmarshal(b, &m) == nil && m.Position > 0 {
				r.last = m.Position
			}
		}
	}()
	e.otherJourney(stays, "MDI", events-1)
	select {
	case n := <-fastGot:
		if n != events {
			t.Errorf("fast client got %d events of %d", n, events)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the fast client was held up")
	}
	r := <-slowGot
	if r.ce == nil {
		t.Fatalf("slow client: no close frame: %v", r.err)
	}
	if r.ce.Code != live.CloseSlowClient || r.ce.Text != fmt.Sprintf("slow-client position=%d", r.last) {
		t.Fatalf("close %d %q; want %d \"slow-client position=%d\"", r.ce.Code, r.ce.Text, live.CloseSlowClient, r.last)
	}
	if e.metrics.droppedFor(live.DropSlowClient) != 1 {
		t.Errorf("drops: %v", e.metrics.dropped)
	}
}

// TestPingPong: an idle client that answers pings stays connected well past
// the read deadline; one that does not is dropped with 4408.
func TestPingPong(t *testing.T) {
	e := newEnv(t, func(c *live.Config) { c.PingInterval = 100 * time.Millisecond }, nil)
	tok := e.token(auth.RoleInspector, "")

	alive := e.connect(tok)
	alive.subscribe(`{"type":"subscribe"}`)
	s := &session{}
	alive.readUntil(s, 0)
	silent := e.connect(tok)
	silent.ws.SetPingHandler(func(string) error { return nil }) // never answers
	silent.subscribe(`{"type":"subscribe"}`)

	// gorilla answers pings while the client reads: read all the time.
	msgs := make(chan []byte, 16)
	go func() {
		defer close(msgs)
		for {
			_, b, err := alive.ws.ReadMessage()
			if err != nil {
				return
			}
			msgs <- b
		}
	}()
	time.Sleep(time.Second) // five read deadlines
	if n := e.h.Connections(); n != 1 {
		t.Errorf("%d connections open; want the answering one only", n)
	}
	e.otherJourney(stays, "MDI", 0)
	select {
	case b, ok := <-msgs:
		if !ok || !strings.Contains(string(b), `"type":"event"`) {
			t.Errorf("idle connection: %q, open %v", b, ok)
		}
	case <-time.After(5 * time.Second):
		t.Error("the idle connection got no event")
	}
	ce := silent.closeOf(5 * time.Second)
	if ce.Code != live.CloseTimeout {
		t.Errorf("silent client closed with %d %q; want %d", ce.Code, ce.Text, live.CloseTimeout)
	}
	if e.metrics.droppedFor(live.DropTimeout) != 1 {
		t.Errorf("drops: %v", e.metrics.dropped)
	}
}

// TestShutdown: Shutdown closes every connection with 1001 and the last
// position, waits for them, and refuses new ones.
func TestShutdown(t *testing.T) {
	e := newEnv(t, nil, nil)
	e.otherJourney(stays, "MDI", 2)
	tok := e.token(auth.RoleInspector, "")
	c := e.connect(tok)
	c.subscribe(`{"type":"subscribe","from":"start"}`)
	s := &session{}
	c.readUntil(s, e.lastPosition())
	idle := e.connect(tok) // never subscribed
	// The client's handshake ends before the server counts the connection; one that
	// shutdown finds not yet counted is closed all the same, but not counted.
	waitFor(t, func() bool { return e.h.Connections() == 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- e.h.Shutdown(ctx) }()
	ce := c.closeOf(5 * time.Second)
	if ce.Code != websocket.CloseGoingAway || ce.Text != fmt.Sprintf("shutdown position=%d", s.position) {
		t.Errorf("close %d %q; want 1001 at position %d", ce.Code, ce.Text, s.position)
	}
	if ce := idle.closeOf(5 * time.Second); ce.Code != websocket.CloseGoingAway {
		t.Errorf("idle connection closed with %d", ce.Code)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if n := e.h.Connections(); n != 0 {
		t.Errorf("%d connections after shutdown", n)
	}
	_, resp, err := e.dial(tok, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dial after shutdown: %v %s", err, status(resp))
	}
	waitFor(t, func() bool {
		e.metrics.mu.Lock()
		defer e.metrics.mu.Unlock()
		return e.metrics.connected == 2 && e.metrics.disconnected == 2
	})
}

// TestRevokedToken: a connection whose token is revoked is closed with 4401
// at the next check.
func TestRevokedToken(t *testing.T) {
	e := newEnv(t, func(c *live.Config) { c.ReauthInterval = 100 * time.Millisecond }, nil)
	tok := e.token(auth.RoleProvider, "NPS-C")
	c := e.connect(tok)
	c.subscribe(`{"type":"subscribe"}`)
	s := &session{}
	c.readUntil(s, 0)
	id := strings.TrimPrefix(e.principal(tok).ID, "token:")
	if _, err := e.tokens.Revoke(context.Background(), id, "test", "left"); err != nil {
		t.Fatal(err)
	}
	var errCode string
	for {
		m, _, err := c.next(5 * time.Second)
		if err != nil {
			ce := asClose(t, err)
			if ce.Code != live.CloseUnauthenticated || errCode != live.CodeUnauthenticated {
				t.Errorf("close %d after error %q; want %d after %q", ce.Code, errCode, live.CloseUnauthenticated, live.CodeUnauthenticated)
			}
			return
		}
		if m.Type == live.TypeError {
			errCode = m.Code
		}
	}
}

func metaFor(org, key string) journeysMeta {
	return journeysMeta{UserID: "user-" + org, Role: "STAFF", Organisation: org, Source: aggregates.SourceAPI, IdempotencyKey: key}
}
