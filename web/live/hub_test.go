package live_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/web/live"
)

// TestSharedHub: many connections of a few kinds of principal share one
// subscription to $all: no catch-up subscription for "now", one kind per
// role and organisation, and each connection receives exactly what the
// reference rule gives it while cases change hands.
func TestSharedHub(t *testing.T) {
	e := newEnv(t, nil, nil)
	var steps handoverSteps
	e.otherJourney(stays, "MDI", 1)
	e.handoverJourney(handed, &steps, 0, 2)
	who := []struct {
		role auth.Role
		org  string
		n    int
	}{{auth.RoleProvider, "NPS-C", 12}, {auth.RoleProvider, "NPS-D", 12}, {auth.RoleProvider, "NPS-B", 6},
		{auth.RolePrison, "LEI", 8}, {auth.RolePrison, "MDI", 6}, {auth.RoleInspector, "", 6}}
	type running struct {
		c *client
		s *session
		p auth.Principal
	}
	var runs []running
	for _, w := range who {
		tok := e.token(w.role, w.org)
		p := e.principal(tok)
		for range w.n {
			c := e.connect(tok)
			c.subscribe(`{"type":"subscribe","from":"now"}`)
			s := &session{}
			c.readUntil(s, 0)
			runs = append(runs, running{c, s, p})
		}
	}
	e.handoverJourney(handed, &steps, 2, handoverStepCount)
	e.otherJourney("C3333CC", "LEI", 2)
	e.do(stays, "MDI", aggregates.AssessRisk{Level: aggregates.RoSHLow, At: day(3, 4, 9)})
	end := e.lastPosition()
	for i, r := range runs {
		r.c.readUntil(r.s, end)
		if got, want := r.s.positions(), e.want(r.p, r.s.from, nil, nil); !slices.Equal(got, want) {
			t.Errorf("connection %d (%s %s)\n got %v\nwant %v", i, r.p.Role, r.p.Org, got, want)
		}
	}
	st := e.h.HubStats()
	if st.Hubs != 1 || st.Kinds != len(who) || st.Registered != len(runs) || st.CatchUps != 0 {
		t.Errorf("hub stats %+v; want 1 hub, %d kinds, %d connections, no catch-up", st, len(who), len(runs))
	}
	if len(runs[0].s.events) == 0 || len(runs[len(runs)-1].s.events) == 0 {
		t.Error("the scenario sent nothing")
	}
}

// TestSwitchOver: connections that read history (from the start, from a
// position, with and without filters, some not reading at first) while
// events are being recorded switch from their catch-up to the hub with no
// gap and no duplicate. Socket buffers, send queues and backlogs are tiny
// (so that a client that does not read holds its history up at once), so that the events the hub
// keeps for a connection reading history overflow and it has to register
// again (and read on) before it can switch.
func TestSwitchOver(t *testing.T) {
	e := newEnv(t, func(c *live.Config) { c.SendBuffer = 4; live.SetBacklog(c, 8) },
		func(l net.Listener) net.Listener { _ = l.Close(); return smallBuffers(t) })
	var steps handoverSteps
	e.handoverJourney(handed, &steps, 0, 4)
	mid := e.lastPosition()
	// Histories longer than the socket buffers, so that a client that does
	// not read holds its catch-up up.
	e.otherJourney(stays, "MDI", 60)
	e.otherJourney("C3333CC", "LEI", 3)

	// Start the hub with an idle connection, so the others register with a
	// running hub while events flow.
	idle := e.connect(e.token(auth.RoleProvider, "NPS-B"))
	idle.subscribe(`{"type":"subscribe","from":"now"}`)
	idle.readUntil(&session{}, 0)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			noms, org := stays, "MDI"
			if i%3 == 2 {
				noms, org = "C3333CC", "LEI"
			}
			if _, err := e.svc.Handle(context.Background(), noms, aggregates.AssessRisk{Level: aggregates.RoSHLow, At: day(4, 1, 9).Add(time.Duration(i) * time.Minute)},
				metaFor(org, fmt.Sprintf("switch-%d", i))); err != nil {
				t.Error(err)
				return
			}
			if i == 10 { // a person the hub meets for the first time
				if _, err := e.svc.Handle(context.Background(), "D4444DD", aggregates.ReceivePrisoner{NOMS: "D4444DD", Kind: aggregates.ReceptionRemand, Prison: "LEI", At: day(4, 1, 9)},
					metaFor("LEI", "switch-reception")); err != nil {
					t.Error(err)
					return
				}
			}
		}
	})
	tests := []struct {
		role   auth.Role
		org    string
		msg    string
		people []string
		from   uint64
		pause  time.Duration
	}{
		{auth.RoleInspector, "", `{"type":"subscribe","from":"start"}`, nil, 0, 0},
		{auth.RoleInspector, "", `{"type":"subscribe","from":"start"}`, nil, 0, 300 * time.Millisecond},
		{auth.RoleInspector, "", fmt.Sprintf(`{"type":"subscribe","from":%d}`, mid), nil, mid, 150 * time.Millisecond},
		{auth.RoleInspector, "", `{"type":"subscribe","from":"start","people":["A1111AA"]}`, []string{stays}, 0, 200 * time.Millisecond},
		{auth.RolePrison, "MDI", `{"type":"subscribe","from":"start"}`, nil, 0, 250 * time.Millisecond},
		{auth.RolePrison, "LEI", fmt.Sprintf(`{"type":"subscribe","from":%d}`, mid), nil, mid, 0},
		{auth.RoleProvider, "NPS-C", `{"type":"subscribe","from":"start"}`, nil, 0, 100 * time.Millisecond},
	}
	type running struct {
		c *client
		s *session
		p auth.Principal
	}
	runs := make([]running, len(tests))
	var readers, caught sync.WaitGroup
	var endPos atomic.Uint64 // set once nothing more is recorded
	for i, tt := range tests {
		tok := e.token(tt.role, tt.org)
		c := e.connectSmall(tok)
		c.subscribe(tt.msg)
		r := running{c, &session{}, e.principal(tok)}
		runs[i] = r
		caught.Add(1)
		readers.Go(func() {
			time.Sleep(tt.pause) // the history waits; the hub's events pile up
			// Read through the switch while events are still recorded, and
			// on until the end.
			for wasCaught := false; ; {
				if end := endPos.Load(); end != 0 && r.s.sawCaught && r.s.position >= end {
					return
				}
				m, b, err := c.next(10 * time.Second)
				if err != nil {
					t.Errorf("%s %s %s: read at %d: %v", tt.role, tt.org, tt.msg, r.s.position, err)
					if !wasCaught {
						caught.Done()
					}
					return
				}
				c.check(r.s, m, b)
				if r.s.sawCaught && !wasCaught {
					wasCaught = true
					caught.Done()
				}
			}
		})
		time.Sleep(20 * time.Millisecond)
	}
	caught.Wait()
	time.Sleep(200 * time.Millisecond) // live, while events are still recorded
	close(stop)
	wg.Wait()
	end := e.lastPosition()
	endPos.Store(end)
	// One more event moves every feed past end (an event or a checkpoint),
	// so that no reader waits for something that is not coming.
	e.do(stays, "MDI", aggregates.AssessRisk{Level: aggregates.RoSHLow, At: day(5, 1, 9)})
	readers.Wait()
	upToEnd := func(ps []uint64) []uint64 { return slices.DeleteFunc(ps, func(p uint64) bool { return p > end }) }
	for i, tt := range tests {
		r := runs[i]
		want := upToEnd(e.want(r.p, tt.from, tt.people, nil))
		if got := upToEnd(r.s.positions()); !slices.Equal(got, want) {
			t.Errorf("%s %s %s\n got %v\nwant %v", tt.role, tt.org, tt.msg, got, want)
		}
	}
	st := e.h.HubStats()
	t.Logf("hub stats %+v", st)
	if st.Hubs != 1 || st.CatchUps < int64(len(tests)) || st.Lapses == 0 {
		t.Errorf("hub stats %+v: want one hub, a catch-up per connection at least, and some lapsed backlogs", st)
	}
}

// connectSmall dials with a small receive buffer, so that a client that
// stops reading pushes back on the server at once.
func (e *env) connectSmall(token string) *client {
	e.t.Helper()
	nd := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048) })
	}}
	d := websocket.Dialer{NetDialContext: nd.DialContext, ReadBufferSize: 512}
	ws, resp, err := d.Dial(e.url(), http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		e.t.Fatalf("dial: %v (%v)", err, status(resp))
	}
	e.t.Cleanup(func() { _ = ws.Close() })
	return &client{t: e.t, ws: ws}
}
