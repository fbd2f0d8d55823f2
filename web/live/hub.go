package live

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/gorilla/websocket"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/folds"
)

// The hub is the process's one live subscription to $all. Every connection
// that has caught up is fed by it:
//
//   - one goroutine receives, one decodes each event once (envelope with an
//     interner, journey event with aggregates.Decode) and starts, for a
//     journey the hub has not folded yet, a read of its history (a few at a
//     time, in the background, so that first sight of a person does not
//     stall everyone else's events);
//   - the hub goroutine folds each journey once, in place, and judges
//     MaySeeJourneyEvent once per kind of principal (role and organisation:
//     the rule looks at nothing else) — "before" on the journey before
//     Fold, "after" on it after — encodes the event's frame once, and hands
//     the same bytes to every connection of a kind that may see it and
//     whose filters want it;
//   - handing on never blocks: a connection's send queue takes the frame at
//     once, or it waits in the connection's own bounded backlog, which the
//     connection's feed goroutine moves to the send queue at the client's
//     pace (conn.enqueue: the slow-client rule). A backlog that overflows
//     drops that client (4429); the hub goes on.
//
// A connection registers with the hub before it reads any history: from then
// on the hub keeps the events meant for it in its backlog without sending
// them (buffering) while the connection's own short-lived catch-up
// subscription sends the history. When the catch-up has covered the position
// the hub had reached at registration, the connection switches over
// (goLive): buffered events at or below what the catch-up covered are
// dropped, caught-up is put in front of the rest, and the hub's events flow.
// Nothing is lost (the hub kept every event after the registration) and
// nothing is sent twice (the catch-up's part and the hub's part are cut at
// one position). A backlog that overflows while buffering (a long history
// read slowly) is discarded and the connection registers again later.

// Defaults of the hub.
const (
	// DefaultHubJourneys bounds the journeys the hub keeps folded.
	DefaultHubJourneys = 65536
	// hubLoads bounds the journey histories the hub reads at once.
	hubLoads = 8
	// hubQueue is how many decoded events may wait for the hub goroutine.
	hubQueue = 4096
	// minBacklog is the least a connection's backlog holds.
	minBacklog = 1024
)

// errShuttingDown: a subscription arrived while the handler shuts down.
var errShuttingDown = errors.New("live: shutting down")

// kindKey is what the visibility rule depends on in a principal.
type kindKey struct {
	role auth.Role
	org  string
}

// kind is every registered connection of one role and organisation.
type kind struct {
	key kindKey
	// p is the first connection's principal; the rule reads only its role
	// and organisation (each connection's principal was validated at the
	// upgrade).
	p     auth.Principal
	every bool // seesEveryJourney(p)
	subs  map[*hubSub]struct{}
	// visible is the hub goroutine's verdict on the current event.
	visible bool
}

// hubSub is one connection's place in the hub.
type hubSub struct {
	c      *conn
	key    kindKey
	people map[string]bool // nil: everyone
	types  map[string]bool // nil: every type
	max    int
	// wake (capacity 1) tells the feed goroutine the backlog has something.
	wake chan struct{}

	mu sync.Mutex
	// buffering: the connection is reading history; the hub keeps its events.
	buffering bool
	// lapsed: the backlog overflowed while buffering and was discarded.
	lapsed bool
	// overflow: the backlog overflowed once live: the client is too slow.
	overflow bool
	// skip: events at or below it are not handed on (the connection has
	// them, or they were before its start).
	skip uint64
	// sent is the highest position handed on (event, caught-up, checkpoint).
	sent    uint64
	backlog []outbound
	head    int
	// inFlight: the feed goroutine holds a message it took from the backlog
	// and has not yet queued, so the hub must not send past it.
	inFlight bool
}

func newHubSub(c *conn, s Subscribe) *hubSub {
	hs := &hubSub{c: c, key: kindKey{c.p.Role, c.p.Org}, wake: make(chan struct{}, 1), max: max(4*c.h.cfg.SendBuffer, minBacklog)}
	if c.h.cfg.backlog > 0 {
		hs.max = c.h.cfg.backlog
	}
	if len(s.People) > 0 {
		hs.people = make(map[string]bool, len(s.People))
		for _, n := range s.People {
			hs.people[n] = true
		}
	}
	if len(s.EventTypes) > 0 {
		hs.types = make(map[string]bool, len(s.EventTypes))
		for _, t := range s.EventTypes {
			hs.types[t] = true
		}
	}
	return hs
}

func (s *hubSub) wants(noms, eventType string) bool {
	if s.people != nil && !s.people[noms] {
		return false // also every stream that is not a journey
	}
	return s.types == nil || s.types[eventType]
}

func (s *hubSub) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *hubSub) pending() int { return len(s.backlog) - s.head }

// deliver hands m on without blocking: straight to the send queue when
// nothing waits before it and there is room, else to the backlog.
func (s *hubSub) deliver(m outbound) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.overflow || s.lapsed || m.pos <= s.skip {
		return
	}
	s.sent = max(s.sent, m.pos)
	if !s.buffering && s.pending() == 0 && !s.inFlight && s.c.trySend(m) {
		return
	}
	if s.pending() >= s.max {
		if s.buffering {
			s.lapsed = true
		} else {
			s.overflow = true
		}
		s.backlog, s.head = nil, 0
		s.signal()
		return
	}
	s.backlog = append(s.backlog, m)
	if !s.buffering {
		s.signal()
	}
}

// checkpoint hands on a checkpoint at pos if the connection is live and has
// been given nothing at or after pos.
func (s *hubSub) checkpoint(pos uint64, frame func() []byte) {
	s.checkpointShared(pos, func() outbound { return outbound{data: frame(), pos: pos, hasPos: true} })
}

// checkpointShared is checkpoint with the whole outbound (a shared frame,
// see sharedFrame) made on first need.
func (s *hubSub) checkpointShared(pos uint64, frame func() outbound) {
	s.mu.Lock()
	need := !s.buffering && !s.overflow && s.sent < pos && s.skip < pos
	s.mu.Unlock()
	if need {
		s.deliver(frame())
	}
}

// pop takes the backlog's first message; inFlight stays set until pop finds
// the backlog empty, so the hub queues behind it meanwhile. overflow says
// the backlog overflowed: the client is to be dropped.
func (s *hubSub) pop() (m outbound, ok, overflow bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.overflow {
		return outbound{}, false, true
	}
	if s.pending() == 0 {
		s.backlog, s.head, s.inFlight = s.backlog[:0], 0, false
		if cap(s.backlog) > 64 {
			s.backlog = nil // do not keep a burst's memory
		}
		return outbound{}, false, false
	}
	m = s.backlog[s.head]
	s.backlog[s.head] = outbound{}
	s.head++
	s.inFlight = true
	return m, true, false
}

// goLive switches a buffering connection to live once its catch-up has
// covered every position up to covered: buffered events at or below it are
// dropped, caught-up is put in front of the rest. It reports false (and
// changes nothing) if the backlog lapsed meanwhile; the connection must
// register again and read on.
func (s *hubSub) goLive(covered uint64) (dropped int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lapsed {
		return 0, false
	}
	rest := s.backlog[s.head:]
	for len(rest) > 0 && rest[0].pos <= covered {
		rest = rest[1:]
		dropped++
	}
	caught := outbound{data: mustJSON(positionMessage{Type: TypeCaughtUp, Position: covered}), pos: covered, hasPos: true}
	s.backlog = append([]outbound{caught}, rest...)
	s.head = 0
	s.skip = max(s.skip, covered)
	s.sent = max(s.sent, covered)
	s.buffering = false
	s.signal()
	return dropped, true
}

// hub is the shared subscription. Everything under mu is also read by
// register; the folds in folds are fed by the hub goroutine alone.
type hub struct {
	h      *Handler
	ctx    context.Context
	cancel context.CancelFunc
	// done is closed when the hub stops; err says why.
	done    chan struct{}
	err     error
	stopped sync.WaitGroup

	mu    sync.Mutex
	pos   uint64 // the last position judged (event or store checkpoint)
	kinds map[kindKey]*kind

	folds *folds.Cache
}

// hubItem is a decoded event (or a store checkpoint) on its way to the hub.
type hubItem struct {
	ev         *esdb.RecordedEvent
	checkpoint uint64
	err        error

	dec folds.Decoded
	// load, when set, brings the journey folded up to just before ev.
	load chan loaded
	// evict names a journey the hub forgets before this event.
	evict string
}

type loaded struct {
	f   *folds.Fold
	err error
}

// liveHub returns the running hub, starting one if there is none (or the
// last one failed).
func (h *Handler) liveHub(ctx context.Context) (*hub, error) {
	h.hubMu.Lock()
	defer h.hubMu.Unlock()
	if hb := h.hub; hb != nil {
		select {
		case <-hb.done:
		default:
			return hb, nil
		}
	}
	h.mu.Lock()
	closing := h.shutdown
	h.mu.Unlock()
	if closing {
		return nil, errShuttingDown
	}
	hb, err := startHub(ctx, h)
	if err != nil {
		return nil, err
	}
	h.hub = hb
	h.hubsStarted.Add(1)
	return hb, nil
}

// stopHub stops the hub, if any, and waits for it or ctx.
func (h *Handler) stopHub(ctx context.Context) error {
	h.hubMu.Lock()
	hb := h.hub
	h.hub = nil
	h.hubMu.Unlock()
	if hb == nil {
		return nil
	}
	hb.cancel()
	done := make(chan struct{})
	go func() { hb.stopped.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("live: shutdown: the hub has not stopped: %w", ctx.Err())
	}
}

func startHub(ctx context.Context, h *Handler) (*hub, error) {
	last, err := eventlog.LastPosition(ctx, h.cfg.Client)
	if err != nil {
		return nil, err
	}
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	opts := esdb.SubscribeToAllOptions{From: esdb.Position{Commit: last, Prepare: last},
		Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: append([]string{journeyStreamPrefix}, inspectorStreamPrefixes...)}}
	sub, err := h.cfg.Client.SubscribeToAll(hctx, opts)
	if err != nil {
		cancel()
		return nil, err
	}
	hb := &hub{h: h, ctx: hctx, cancel: cancel, done: make(chan struct{}), pos: last,
		kinds: map[kindKey]*kind{}, folds: folds.NewCache(h.cfg.Client, h.cfg.HubJourneys)}
	received := make(chan subItem, 256)
	ready := make(chan hubItem, hubQueue)
	hb.stopped.Add(3)
	go func() { defer hb.stopped.Done(); receive(hctx, sub, received) }()
	go func() { defer hb.stopped.Done(); hb.prepare(received, ready) }()
	go func() {
		defer hb.stopped.Done()
		err := hb.run(ready)
		stopped := hctx.Err() != nil
		hb.err = err
		close(hb.done)
		cancel()
		_ = sub.Close()
		if !stopped {
			h.log.Error("live: hub stopped; its connections are closed", "err", err, "position", hb.position())
		}
	}()
	h.log.Info("live: hub subscribed", "position", last)
	return hb, nil
}

func (hb *hub) position() uint64 {
	hb.mu.Lock()
	defer hb.mu.Unlock()
	return hb.pos
}

// register adds s (buffering) and returns the position after which the hub
// keeps its events.
func (hb *hub) register(s *hubSub) uint64 {
	hb.mu.Lock()
	defer hb.mu.Unlock()
	k := hb.kinds[s.key]
	if k == nil {
		k = &kind{key: s.key, p: s.c.p, every: seesEveryJourney(s.c.p), subs: map[*hubSub]struct{}{}}
		hb.kinds[s.key] = k
	}
	k.subs[s] = struct{}{}
	s.mu.Lock()
	s.buffering, s.lapsed, s.backlog, s.head = true, false, nil, 0
	s.mu.Unlock()
	return hb.pos
}

func (hb *hub) unregister(s *hubSub) {
	hb.mu.Lock()
	defer hb.mu.Unlock()
	if k := hb.kinds[s.key]; k != nil {
		delete(k.subs, s)
		if len(k.subs) == 0 {
			delete(hb.kinds, s.key)
		}
	}
}

// prepare decodes events and decides which journeys the hub holds (a
// bounded least-recently-seen set): a journey met for the first time, or
// again after being forgotten, has its history folded in the background,
// up to just before the event.
func (hb *hub) prepare(in <-chan subItem, out chan<- hubItem) {
	dec := folds.NewDecoder()
	held := newNOMSSet(hb.h.cfg.HubJourneys)
	sem := make(chan struct{}, hubLoads)
	send := func(it hubItem) bool {
		select {
		case out <- it:
			return true
		case <-hb.ctx.Done():
			return false
		}
	}
	for {
		var it subItem
		select {
		case it = <-in:
		case <-hb.ctx.Done():
			return
		}
		switch {
		case it.err != nil:
			send(hubItem{err: it.err})
			return
		case it.checkpoint != nil:
			if !send(hubItem{checkpoint: it.checkpoint.Commit}) {
				return
			}
			continue
		case it.ev == nil:
			continue // caught up: the hub is live from the start
		}
		ev := it.ev
		hi := hubItem{ev: ev}
		dec.Decode(&hi.dec, ev.StreamID, ev.EventType, ev.Data, ev.UserMetadata)
		if noms := hi.dec.NOMS; noms != "" {
			if isNew, evicted := held.add(noms); isNew {
				hi.evict = evicted
				if ev.EventNumber > 0 {
					select {
					case sem <- struct{}{}:
					case <-hb.ctx.Done():
						return
					}
					hi.load = make(chan loaded, 1)
					hb.stopped.Add(1)
					go func(ch chan<- loaded, stream string, rev uint64) {
						defer hb.stopped.Done()
						defer func() { <-sem }()
						f, err := folds.Before(hb.ctx, hb.h.cfg.Client, noms, stream, rev)
						ch <- loaded{f, err}
					}(hi.load, ev.StreamID, ev.EventNumber)
				}
			}
		}
		if !send(hi) {
			return
		}
	}
}

// run is the hub goroutine: it judges and hands on events in order, and
// sends checkpoints to live connections the log has moved past.
func (hb *hub) run(ready <-chan hubItem) error {
	tick := time.NewTicker(hb.h.cfg.CheckpointInterval)
	defer tick.Stop()
	for {
		select {
		case <-hb.ctx.Done():
			return hb.ctx.Err()
		case it := <-ready:
			if it.err != nil {
				return it.err
			}
			if it.ev == nil {
				hb.mu.Lock()
				hb.pos = max(hb.pos, it.checkpoint)
				hb.mu.Unlock()
				continue
			}
			if err := hb.event(&it); err != nil {
				return err
			}
		case <-tick.C:
			hb.checkpoints()
		}
	}
}

// journey is the folded journey of it's person just before it, loading it
// if need be.
func (hb *hub) journey(it *hubItem) (*folds.Fold, error) {
	if it.evict != "" {
		hb.folds.Drop(it.evict)
	}
	if it.load != nil {
		select {
		case r := <-it.load:
			if r.err != nil {
				return nil, r.err
			}
			hb.folds.Put(r.f)
		case <-hb.ctx.Done():
			return nil, hb.ctx.Err()
		}
	}
	// A journey not held or held at another revision cannot happen within one
	// subscription; folding it again from the store is right whatever the cause.
	return hb.folds.At(hb.ctx, it.dec.NOMS, it.ev.StreamID, it.ev.EventNumber)
}

// event folds one event, judges it per kind and hands its frame on.
func (hb *hub) event(it *hubItem) error {
	ev := it.ev
	pos := ev.Position.Commit
	noms := it.dec.NOMS
	var j *folds.Fold
	if noms != "" {
		var err error
		if j, err = hb.journey(it); err != nil {
			return err
		}
	}
	hb.mu.Lock()
	defer hb.mu.Unlock()
	anyone := false
	if j == nil {
		for _, k := range hb.kinds {
			k.visible = MaySeeOtherStream(k.p, ev.StreamID)
			anyone = anyone || k.visible
		}
	} else {
		// An event that cannot be decoded leaves the journey's state unknown from
		// there: the feed fails closed for it (inspectors, who need no fold, still
		// receive it).
		broken := j.Broken != nil || it.dec.DecodeErr != nil
		if j.Broken == nil && it.dec.DecodeErr != nil {
			hb.h.log.ErrorContext(hb.ctx, "live: journey event cannot be decoded; sent to inspectors only", "stream", ev.StreamID, "revision", ev.EventNumber, "err", it.dec.DecodeErr)
		}
		for _, k := range hb.kinds {
			k.visible = k.every || (!broken && auth.CanReadJourney(k.p, j.Journey))
		}
		j.Apply(ev.EventNumber, pos, it.dec.Domain, it.dec.DecodeErr)
		if !broken {
			for _, k := range hb.kinds {
				k.visible = k.visible || auth.CanReadJourney(k.p, j.Journey)
			}
		}
		for _, k := range hb.kinds {
			anyone = anyone || k.visible
		}
	}
	if anyone {
		var m outbound
		for _, k := range hb.kinds {
			if !k.visible {
				continue
			}
			for s := range k.subs {
				if !s.wants(noms, ev.EventType) {
					continue
				}
				if m.data == nil {
					m = sharedFrame(eventFrame(ev, noms, it.dec.Envelope), pos)
				}
				s.deliver(m)
			}
		}
	}
	hb.pos = max(hb.pos, pos)
	return nil
}

// checkpoints gives every live connection that has been handed nothing at
// or after the hub's position a checkpoint there; the frame is encoded once.
func (hb *hub) checkpoints() {
	hb.mu.Lock()
	defer hb.mu.Unlock()
	pos := hb.pos
	var m outbound
	frame := func() outbound {
		if m.data == nil {
			m = sharedFrame(mustJSON(positionMessage{Type: TypeCheckpoint, Position: pos}), pos)
		}
		return m
	}
	for _, k := range hb.kinds {
		for s := range k.subs {
			s.checkpointShared(pos, frame)
		}
	}
}

// sharedFrame is the outbound for a frame the hub hands to many
// connections: its WebSocket framing is prepared once, and each connection's
// writer sends the same bytes.
func sharedFrame(data []byte, pos uint64) outbound {
	m := outbound{data: data, pos: pos, hasPos: true}
	if pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data); err == nil {
		m.pm = pm
	}
	return m
}

// nomsSet is a bounded set of NOMS numbers, least recently added or seen
// first out.
type nomsSet struct {
	max   int
	order *list.List // of string, most recent at the front
	byKey map[string]*list.Element
}

func newNOMSSet(max int) *nomsSet {
	return &nomsSet{max: max, order: list.New(), byKey: map[string]*list.Element{}}
}

// add notes noms as seen now; it reports whether noms is new and, if the set
// overflowed, which one it forgot.
func (n *nomsSet) add(noms string) (isNew bool, evicted string) {
	if e, ok := n.byKey[noms]; ok {
		n.order.MoveToFront(e)
		return false, ""
	}
	n.byKey[noms] = n.order.PushFront(noms)
	if n.order.Len() > n.max {
		last := n.order.Back()
		n.order.Remove(last)
		evicted = last.Value.(string)
		delete(n.byKey, evicted)
	}
	return true, evicted
}

// hubCounters are figures tests read.
type hubCounters struct {
	catchUps      atomic.Int64 // catch-up subscriptions opened
	lapses        atomic.Int64 // backlogs discarded while buffering
	switchDropped atomic.Int64 // buffered events dropped at switch-over
}
