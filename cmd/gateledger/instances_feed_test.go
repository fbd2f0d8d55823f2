package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// liveEvent is what the instances test keeps of a live-feed event, and of a
// store event, to compare the two.
type liveEvent struct {
	Position uint64 `json:"position"`
	Stream   string `json:"stream"`
	Revision uint64 `json:"revision"`
	EventID  string `json:"eventId"`
}

func (e liveEvent) String() string {
	return fmt.Sprintf("%s@%d (position %d, %s)", e.Stream, e.Revision, e.Position, e.EventID)
}

// liveMessage is any server message of the live feed (web/live/protocol.md).
type liveMessage struct {
	liveEvent
	Type    string          `json:"type"`
	From    json.RawMessage `json:"from"`
	Code    string          `json:"code"`
	Message string          `json:"message"`
}

// follower is a live-feed client that moves from instance to instance as a
// client behind a load balancer would: it leaves each instance after a few
// events (closing cleanly or dropping the connection, in turn), is cut off
// when an instance is killed, and each time resumes on the next instance from
// the last position it received, as the protocol says.
type follower struct {
	token  string
	people []string
	// first is the instance it connects to first; every is how many events it
	// takes from one connection before moving on to the next.
	first, every int

	mu        sync.Mutex
	got       []liveEvent
	last      uint64
	moves     int // connections it left on purpose
	cut       int // connections lost under it (an instance killed)
	idle      int // connections given up after a quiet spell
	problems  []string
	target    uint64 // the position to reach; 0 while unknown
	targetSet bool
}

func (f *follower) problem(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.problems = append(f.problems, fmt.Sprintf(format, args...))
}

// until tells the follower where the store's history of its people ends: it
// stops once it has received that position.
func (f *follower) until(pos uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.target, f.targetSet = pos, true
}

func (f *follower) done() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.targetSet && f.last >= f.target
}

// run follows the feed through the instances addr names (an empty address is
// one that is down) until done, or until deadline.
func (f *follower) run(addr func(i int) string, instances int, deadline time.Time) {
	names, _ := json.Marshal(f.people)
	clean := true
	for i := f.first; !f.done(); {
		if time.Now().After(deadline) {
			f.mu.Lock()
			f.problems = append(f.problems, fmt.Sprintf("the follower did not reach position %d by its deadline (last %d)", f.target, f.last))
			f.mu.Unlock()
			return
		}
		// A quiet spell is not a reason to move; anything else is.
		if a := addr(i); a == "" || f.visit(a, string(names), &clean) != "idle" {
			i = (i + 1) % instances
		}
	}
}

// visit subscribes on the instance at a, from the last position received, and
// follows it until follow says why it stopped ("dial" when it could not
// connect). It leaves cleanly and by dropping the connection in turn.
func (f *follower) visit(a, names string, clean *bool) string {
	ws, _, err := (&websocket.Dialer{HandshakeTimeout: 5 * time.Second}).Dial("ws://"+a+"/v1/live",
		http.Header{"Authorization": {"Bearer " + f.token}})
	if err != nil {
		time.Sleep(50 * time.Millisecond) // down, or coming back
		return "dial"
	}
	defer ws.Close()
	f.mu.Lock()
	from := `"start"`
	if f.last > 0 {
		from = strconv.FormatUint(f.last, 10)
	}
	f.mu.Unlock()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","from":`+from+`,"people":`+names+`}`)); err != nil {
		return "cut"
	}
	ended := f.follow(ws, from)
	if ended == "move" {
		if *clean {
			_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		}
		*clean = !*clean
	}
	return ended
}

// follow reads one connection until it should move on ("move"), the
// connection is lost ("cut"), it stays quiet ("idle") or the follower is
// done ("done").
func (f *follower) follow(ws *websocket.Conn, from string) string {
	taken := 0
	for {
		_ = ws.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, b, err := ws.ReadMessage()
		if err != nil {
			var ne net.Error
			f.mu.Lock()
			defer f.mu.Unlock()
			switch {
			case f.targetSet && f.last >= f.target:
				return "done"
			case errors.As(err, &ne) && ne.Timeout():
				f.idle++
				return "idle"
			default:
				f.cut++
				return "cut"
			}
		}
		var m liveMessage
		if err := json.Unmarshal(b, &m); err != nil {
			f.problem("undecodable message %s: %v", b, err)
			return "cut"
		}
		f.mu.Lock()
		switch m.Type {
		case "subscribed":
			if string(m.From) != from {
				f.problems = append(f.problems, fmt.Sprintf("subscribed from %s, asked from %s", m.From, from))
			}
		case "event":
			if m.Position <= f.last {
				f.problems = append(f.problems, fmt.Sprintf("event %s after position %d: repeated or out of order", m.liveEvent, f.last))
			}
			f.got = append(f.got, m.liveEvent)
			f.last = m.Position
			taken++
		case "caught-up", "checkpoint":
			if m.Position > f.last {
				f.last = m.Position
			}
		case "error":
			f.problems = append(f.problems, fmt.Sprintf("error %s: %s", m.Code, m.Message))
		}
		reached := f.targetSet && f.last >= f.target
		if !reached && taken >= f.every {
			f.moves++
		}
		f.mu.Unlock()
		switch {
		case reached:
			return "done"
		case taken >= f.every:
			return "move"
		}
	}
}

// compare checks what the follower received against the store's own order of
// the same streams' events up to the target: the same events, in the same
// order, none missing and none twice.
func (f *follower) compare(store []liveEvent) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := append([]string(nil), f.problems...)
	var got []liveEvent
	for _, e := range f.got {
		if e.Position <= f.target {
			got = append(got, e)
		}
	}
	for i := 0; i < max(len(got), len(store)); i++ {
		switch {
		case i >= len(got):
			return append(out, fmt.Sprintf("the feed stopped short: %d events of %d; the first missing is %s", len(got), len(store), store[i]))
		case i >= len(store):
			return append(out, fmt.Sprintf("the feed sent %d events, the store has %d; the first extra is %s", len(got), len(store), got[i]))
		case got[i] != store[i]:
			return append(out, fmt.Sprintf("event %d: the feed sent %s, the store has %s", i, got[i], store[i]))
		}
	}
	return out
}

// journeyStreams names the streams of people, as the store names them.
func journeyStreams(people []string) map[string]bool {
	s := map[string]bool{}
	for _, p := range people {
		s["journey-"+p] = true
	}
	return s
}

// upTo keeps the events of streams at or before pos.
func upTo(events []storedEvent, streams map[string]bool, pos uint64) []liveEvent {
	var out []liveEvent
	for _, e := range events {
		if streams[e.Stream] && e.Position <= pos {
			out = append(out, liveEvent{Position: e.Position, Stream: e.Stream, Revision: e.Revision, EventID: e.ID})
		}
	}
	return out
}

// lastOf is the position of the last event of streams.
func lastOf(events []storedEvent, streams map[string]bool) uint64 {
	var last uint64
	for _, e := range events {
		if streams[e.Stream] {
			last = max(last, e.Position)
		}
	}
	return last
}
