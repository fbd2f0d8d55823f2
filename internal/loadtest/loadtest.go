// Package loadtest measures the WebSocket live feed under load, on loopback,
// bounded in count and time: it starts an embedded ledger as gateledger
// serve starts it (package instance: event store, read models, HTTP API,
// live feed and the rest) in a scratch directory, gives each of the 12 NPS regions
// cases, connects N WebSocket subscribers spread over the 12 providers with
// from "now", then sends commands through the HTTP API at R per second for D
// and measures, for every event each subscriber may see:
//
//   - append-to-delivery latency: from just before the command's HTTP
//     request is sent to the moment the subscriber has read the event
//     (matched by the correlation id, which is the request's X-Request-Id);
//   - events lost: what each subscriber should have received is judged
//     afterwards, independently of the feed, by reading every journey back
//     from the store, folding it, and applying live.MaySeeJourneyEvent to
//     each event after the position the subscriber started from;
//   - duplicates (a position received twice) and unexpected events (one
//     the rule says the subscriber may not see);
//   - memory per idle connection: the Go heap in use after a GC with the N
//     subscribers connected, subscribed and idle, minus before, over N.
//     The subscribers run in the same process, so the figure includes their
//     client side too (gorilla buffers, decoder): it is an upper bound on the
//     server's own cost.
//
// The journeys: each case is received at LEI in 2025 (the unified model: the
// CRCs ended on 25 June 2021, and a CRC's case is its region's since), its
// release area set to an area of one region, which requests a handover to
// that region, and the region accepts it. During the load each command is,
// for one case in turn, a risk assessment by the responsible region; every
// tenth command on a case moves its release area to the next region's area (a
// handover request, both sides see it) and the next command on that case is
// the new region's acceptance (after which the old one sees nothing more). So
// visibility changes during the run, and each provider's subscribers must
// receive exactly the events of the cases they hold or are handed.
//
// It imports instance (the ledger it measures), and aggregates, auth,
// eventlog, journeygen and web/live to drive and judge it.
package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/internal/journeygen"
	"github.com/gateledger/gateledger/web/live"
)

// Defaults and bounds of Config.
const (
	DefaultSubscribers         = 1000
	DefaultRate                = 500
	DefaultDuration            = 20 * time.Second
	DefaultJourneysPerProvider = 50
	MaxSubscribers             = 20000
	MaxRate                    = 5000
	MaxDuration                = 10 * time.Minute
	// drainTimeout bounds the wait, after the last command, for every
	// subscriber to receive what it should.
	drainTimeout = 60 * time.Second
	// maxInFlight bounds the commands waiting for an answer at once.
	maxInFlight = 512
	// prison is where every case is received.
	prison = "LEI"
)

// Config of a run. Dir and Policy are required.
type Config struct {
	// Dir is a scratch directory for the embedded store.
	Dir string
	// Policy is the ledger's policy (aggregates.DefaultPolicy with a calendar).
	Policy aggregates.Policy
	// Subscribers is how many WebSocket subscribers connect (DefaultSubscribers).
	Subscribers int
	// Rate is commands per second (DefaultRate).
	Rate int
	// Duration of the command phase (DefaultDuration).
	Duration time.Duration
	// JourneysPerProvider is how many cases each region holds at the start
	// (DefaultJourneysPerProvider).
	JourneysPerProvider int
	// Progress, when set, receives one line per phase.
	Progress io.Writer
	// Logger for the embedded ledger; nil logs only errors to Progress.
	Logger *slog.Logger
	// CheckpointInterval is the live feed's (live.DefaultCheckpointInterval
	// when zero, as serve runs it). The drain after the command phase waits
	// for a checkpoint on subscribers with nothing more to receive, so tests
	// shorten it.
	CheckpointInterval time.Duration
}

// Results of a run. The ws_ keys are those of gateledger bench --json.
type Results struct {
	Subscribers     int     `json:"ws_subscribers"`
	P50Ms           float64 `json:"ws_p50_ms"`
	P99Ms           float64 `json:"ws_p99_ms"`
	MaxMs           float64 `json:"ws_max_ms"`
	Lost            int64   `json:"ws_lost"`
	Duplicates      int64   `json:"ws_duplicates"`
	Unexpected      int64   `json:"ws_unexpected"`
	BytesPerConn    float64 `json:"ws_bytes_per_conn"`
	StackPerConn    float64 `json:"ws_stack_bytes_per_conn"`
	GoroutinesPer   float64 `json:"ws_goroutines_per_conn"`
	Providers       int     `json:"ws_providers"`
	Journeys        int     `json:"ws_journeys"`
	Commands        int     `json:"ws_commands"`
	CommandErrors   int     `json:"ws_command_errors"`
	TargetRate      int     `json:"ws_target_rate"`
	AchievedRate    float64 `json:"ws_achieved_rate"`
	CommandP50Ms    float64 `json:"ws_command_p50_ms"`
	CommandP99Ms    float64 `json:"ws_command_p99_ms"`
	Events          int     `json:"ws_events"`
	Deliveries      int64   `json:"ws_deliveries"`
	Expected        int64   `json:"ws_expected"`
	ClosedByServer  int     `json:"ws_closed_by_server"`
	DurationSeconds float64 `json:"ws_duration_s"`
	Cores           int     `json:"ws_cores"`
}

func (c *Config) defaults() error {
	if c.Dir == "" {
		return errors.New("loadtest: Dir is required")
	}
	if c.Subscribers <= 0 {
		c.Subscribers = DefaultSubscribers
	}
	if c.Rate <= 0 {
		c.Rate = DefaultRate
	}
	if c.Duration <= 0 {
		c.Duration = DefaultDuration
	}
	if c.JourneysPerProvider <= 0 {
		c.JourneysPerProvider = DefaultJourneysPerProvider
	}
	if c.Subscribers > MaxSubscribers || c.Rate > MaxRate || c.Duration > MaxDuration {
		return fmt.Errorf("loadtest: at most %d subscribers, %d commands/s and %v", MaxSubscribers, MaxRate, MaxDuration)
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(c.Progress, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	return nil
}

// journey is one case and who holds it, as the load generator drives it.
// Commands on one case are sent one at a time (mu), in the order of their
// "at", which advances a minute per command.
type journey struct {
	mu      sync.Mutex
	noms    string
	holder  int // provider index
	pending int // provider index of an open handover, or -1
	ops     int
	at      time.Time
}

// run is the state of one run.
type run struct {
	cfg       Config
	l         *ledger
	providers []string
	// areas holds, per provider, a contract package area it covers, to name
	// as a release area.
	areas     []string
	tokens    []string // per provider
	prisonTok string
	client    *http.Client
	base      time.Time // monotonic origin of send times
	sent      []atomic.Int64
	subs      []*subscriber
}

// Run runs the load test and returns its figures.
func Run(ctx context.Context, cfg Config) (Results, error) {
	if err := cfg.defaults(); err != nil {
		return Results{}, err
	}
	say := func(format string, args ...any) { fmt.Fprintf(cfg.Progress, "loadtest: "+format+"\n", args...) }
	providers, areas := regionsAndAreas()
	r := &run{cfg: cfg, providers: providers, areas: areas,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: maxInFlight, MaxConnsPerHost: maxInFlight}}}
	res := Results{Subscribers: cfg.Subscribers, Providers: len(r.providers), TargetRate: cfg.Rate, Cores: runtime.GOMAXPROCS(0)}
	l, err := startLedger(ctx, cfg.Dir, cfg.Policy, cfg.Logger, cfg.CheckpointInterval)
	if err != nil {
		return res, err
	}
	r.l = l
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		for _, s := range r.subs {
			_ = s.ws.Close()
		}
		if err := l.close(closeCtx); err != nil {
			cfg.Logger.Error("loadtest: closing the ledger", "err", err)
		}
		r.client.CloseIdleConnections()
	}()
	if r.prisonTok, err = l.token(ctx, auth.RolePrison, prison); err != nil {
		return res, err
	}
	for _, p := range r.providers {
		tok, err := l.token(ctx, auth.RoleProvider, p)
		if err != nil {
			return res, err
		}
		r.tokens = append(r.tokens, tok)
	}

	say("setting up %d cases (%d per provider) through the HTTP API", len(r.providers)*cfg.JourneysPerProvider, cfg.JourneysPerProvider)
	js, err := r.setup(ctx)
	if err != nil {
		return res, err
	}
	res.Journeys = len(js)

	// Send times, by command: allocated before the subscribers start reading.
	r.sent = make([]atomic.Int64, int(float64(cfg.Rate)*cfg.Duration.Seconds()))
	// Memory: the heap with N idle, subscribed connections, minus before.
	before := memNow()
	say("connecting %d subscribers", cfg.Subscribers)
	if err := r.connect(ctx); err != nil {
		return res, err
	}
	// Let the subscriptions settle (their first store reads, checkpoints).
	time.Sleep(time.Second)
	after := memNow()
	n := float64(cfg.Subscribers)
	res.BytesPerConn = math.Round(float64(int64(after.heap)-int64(before.heap)) / n)
	res.StackPerConn = math.Round(float64(int64(after.stack)-int64(before.stack)) / n)
	res.GoroutinesPer = math.Round(float64(after.goroutines-before.goroutines)/n*10) / 10
	say("idle: %.0f heap bytes, %.0f stack bytes, %.1f goroutines per connection", res.BytesPerConn, res.StackPerConn, res.GoroutinesPer)

	say("sending %d commands/s for %v", cfg.Rate, cfg.Duration)
	cmdLat, sent, errs, elapsed, err := r.load(ctx, js)
	if err != nil {
		return res, err
	}
	res.Commands, res.CommandErrors = sent, errs
	res.AchievedRate = math.Round(float64(sent)/elapsed.Seconds()*10) / 10
	res.DurationSeconds = math.Round(elapsed.Seconds()*10) / 10
	res.CommandP50Ms, res.CommandP99Ms = quantile(cmdLat, 0.50), quantile(cmdLat, 0.99)

	last, err := eventlog.LastPosition(ctx, l.Store().Client)
	if err != nil {
		return res, err
	}
	say("waiting until every subscriber has been sent position %d (at most %v)", last, drainTimeout)
	r.drain(ctx, last)
	// Stop the feeds before reading the journeys back, so that the judging
	// does not compete with them.
	for _, s := range r.subs {
		s.mu.Lock()
		s.stopping = true
		s.mu.Unlock()
		_ = s.ws.Close()
	}
	say("judging what each subscriber should have received")
	expected, events, err := r.expected(ctx, js)
	if err != nil {
		return res, err
	}
	res.Events = events
	var lat []float64
	for _, s := range r.subs {
		s.mu.Lock()
		exp := expected[s.provider]
		got := map[uint64]bool{}
		for _, p := range s.positions {
			got[p] = true
		}
		for _, p := range exp {
			if p > s.from {
				res.Expected++
				if !got[p] {
					res.Lost++
				}
			}
		}
		want := map[uint64]bool{}
		for _, p := range exp {
			want[p] = true
		}
		for _, p := range s.positions {
			if !want[p] {
				res.Unexpected++
			}
		}
		res.Duplicates += s.dups
		res.Deliveries += int64(len(s.positions))
		if s.closed {
			res.ClosedByServer++
		}
		lat = append(lat, s.latencies...)
		s.mu.Unlock()
	}
	res.P50Ms, res.P99Ms = quantile(lat, 0.50), quantile(lat, 0.99)
	if len(lat) > 0 {
		res.MaxMs = round2(slices.Max(lat))
	}
	return res, nil
}

type mem struct {
	heap, stack uint64
	goroutines  int
}

func memNow() mem {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return mem{heap: ms.HeapInuse, stack: ms.StackInuse, goroutines: runtime.NumGoroutine()}
}

// post sends one command and returns the answer's status.
func (r *run) post(ctx context.Context, token, noms, path, body, requestID string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+r.l.addr+"/v1/journeys/"+noms+path, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", requestID)
	req.Header.Set("Idempotency-Key", requestID)
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return resp.StatusCode, fmt.Errorf("POST %s%s: %d %s", noms, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	return resp.StatusCode, nil
}

func at(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// setup gives every provider its cases: reception, release area (which
// requests the handover to the area's region), acceptance.
func (r *run) setup(ctx context.Context) ([]*journey, error) {
	var js []*journey
	start := time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)
	for i := range r.cfg.JourneysPerProvider * len(r.providers) {
		js = append(js, &journey{noms: journeygen.NOMS(i), holder: i % len(r.providers), pending: -1, at: start})
	}
	work := make(chan *journey)
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for j := range work {
				p := r.areas[j.holder]
				steps := []struct{ tok, path, body string }{
					{r.prisonTok, "/receptions", `{"kind":"SENTENCE","prison":"` + prison + `","at":"` + at(j.at) + `"}`},
					{r.prisonTok, "/release-area", `{"area":"` + p + `","at":"` + at(j.at.Add(time.Hour)) + `"}`},
					{r.tokens[j.holder], "/handovers/current/acceptance", `{"at":"` + at(j.at.Add(2*time.Hour)) + `"}`},
				}
				j.at = j.at.Add(3 * time.Hour)
				for k, s := range steps {
					if _, err := r.post(ctx, s.tok, j.noms, s.path, s.body, fmt.Sprintf("setup-%s-%d", j.noms, k)); err != nil {
						select {
						case errc <- err:
						default:
						}
						break
					}
				}
			}
		})
	}
	for _, j := range js {
		select {
		case work <- j:
		case err := <-errc:
			close(work)
			wg.Wait()
			return nil, err
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errc:
		return nil, err
	default:
	}
	return js, nil
}

// load sends Rate commands a second for Duration, each at its due time (a
// command is never sent early; if maxInFlight are waiting for answers, the
// next waits too, and the achieved rate says so). Nothing is sent after
// Duration. It returns the commands' answer times in ms, how many were sent,
// the number refused or failed, and how long it took until the last answer.
func (r *run) load(ctx context.Context, js []*journey) ([]float64, int, int, time.Duration, error) {
	total := len(r.sent)
	interval := time.Second / time.Duration(r.cfg.Rate)
	sem := make(chan struct{}, maxInFlight)
	var mu sync.Mutex
	var lat []float64
	var errs int
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	sent := 0
	for i := range total {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		if ctx.Err() != nil || time.Since(start) >= r.cfg.Duration {
			break // bounded in time as well as in count
		}
		sem <- struct{}{}
		sent++
		j := js[i%len(js)]
		wg.Go(func() {
			defer func() { <-sem }()
			j.mu.Lock()
			defer j.mu.Unlock()
			tok, path, body := r.next(j)
			id := "lt-" + strconv.Itoa(i)
			t0 := time.Now()
			r.sent[i].Store(int64(t0.Sub(r.base)))
			_, err := r.post(ctx, tok, j.noms, path, body, id)
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, float64(d.Microseconds())/1000)
			if err != nil {
				errs++
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			r.advance(j)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		r.cfg.Logger.Error("loadtest: a command failed", "err", firstErr, "failed", errs)
	}
	return lat, sent, errs, elapsed, ctx.Err()
}

// next is the command to send for j now: the pending acceptance, a release
// area change every tenth command, else a risk assessment.
func (r *run) next(j *journey) (token, path, body string) {
	j.at = j.at.Add(time.Minute)
	switch {
	case j.pending >= 0:
		return r.tokens[j.pending], "/handovers/current/acceptance", `{"at":"` + at(j.at) + `"}`
	case j.ops%10 == 9:
		to := (j.holder + 1) % len(r.providers)
		return r.tokens[j.holder], "/release-area", `{"area":"` + r.areas[to] + `","at":"` + at(j.at) + `"}`
	default:
		return r.tokens[j.holder], "/risk", `{"level":"LOW","at":"` + at(j.at) + `"}`
	}
}

// advance moves j's state after a command next chose was recorded.
func (r *run) advance(j *journey) {
	switch {
	case j.pending >= 0:
		j.holder, j.pending = j.pending, -1
	case j.ops%10 == 9:
		j.pending = (j.holder + 1) % len(r.providers)
	}
	j.ops++
}

// expected reads every journey back from the store and says, for each
// provider, the positions of the events live.MaySeeJourneyEvent lets it see
// (in order), and how many events the command phase recorded.
func (r *run) expected(ctx context.Context, js []*journey) (map[int][]uint64, int, error) {
	var minFrom uint64 = math.MaxUint64
	for _, s := range r.subs {
		minFrom = min(minFrom, s.from)
	}
	principals := make([]auth.Principal, len(r.providers))
	for i, p := range r.providers {
		principals[i] = auth.Principal{ID: "token:loadtest" + p, Name: "loadtest", Role: auth.RoleProvider, Org: p}
	}
	out := map[int][]uint64{}
	events := 0
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan *journey)
	errc := make(chan error, 1)
	for range 8 {
		wg.Go(func() {
			for j := range work {
				seen, n, err := r.judge(ctx, j, principals, minFrom)
				if err != nil {
					select {
					case errc <- err:
					default:
					}
					continue
				}
				mu.Lock()
				for i, ps := range seen {
					out[i] = append(out[i], ps...)
				}
				events += n
				mu.Unlock()
			}
		})
	}
	for _, j := range js {
		work <- j
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errc:
		return nil, 0, err
	default:
	}
	for i := range out {
		slices.Sort(out[i])
	}
	return out, events, nil
}

// judge reads one journey back and says which of its events after minFrom
// each provider may see, and how many events it has after minFrom.
func (r *run) judge(ctx context.Context, j *journey, principals []auth.Principal, minFrom uint64) (map[int][]uint64, int, error) {
	recs, err := eventlog.ReadStream(ctx, r.l.Store().Client, aggregates.StreamName(j.noms))
	if err != nil {
		return nil, 0, err
	}
	out := map[int][]uint64{}
	events := 0
	var state aggregates.Journey
	seenBefore := make([]bool, len(principals))
	for _, rec := range recs {
		d, err := eventlog.DecodeJourneyEvent(rec)
		if err != nil {
			return nil, 0, fmt.Errorf("%s@%d: %w", rec.Stream, rec.Revision, err)
		}
		// MaySeeJourneyEvent(p, before, after), evaluated in two halves
		// (with an empty journey, which no provider may read, for the other
		// side) because Fold changes the journey's maps and slices in
		// place: "before" must be judged before folding, as the feed does.
		for i, p := range principals {
			seenBefore[i] = live.MaySeeJourneyEvent(p, state, aggregates.Journey{})
		}
		aggregates.Fold(&state, d)
		pos := rec.Position.Commit
		if pos <= minFrom {
			continue
		}
		events++
		for i, p := range principals {
			if seenBefore[i] || live.MaySeeJourneyEvent(p, aggregates.Journey{}, state) {
				out[i] = append(out[i], pos)
			}
		}
	}
	return out, events, nil
}

// drain waits until every subscriber has been sent a message (event,
// checkpoint) at or after position last, or drainTimeout. What has not
// arrived by then is counted lost.
func (r *run) drain(ctx context.Context, last uint64) {
	deadline := time.Now().Add(drainTimeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		done := true
		for _, s := range r.subs {
			s.mu.Lock()
			behind := s.reached < last && !s.closed
			s.mu.Unlock()
			if behind {
				done = false
				break
			}
		}
		if done {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return round2(s[max(i, 0)])
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// subscriber is one WebSocket client of one provider.
type subscriber struct {
	r        *run
	provider int
	ws       *websocket.Conn

	mu        sync.Mutex
	from      uint64
	last      uint64
	reached   uint64 // highest position of any message
	stopping  bool
	positions []uint64
	latencies []float64
	dups      int64
	closed    bool
}

// wireMessage is the part of a server message the subscriber reads.
type wireMessage struct {
	Type          string `json:"type"`
	Position      uint64 `json:"position"`
	From          any    `json:"from"`
	CorrelationID string `json:"correlationId"`
}

// connect opens the subscribers, 64 at a time, and returns once every one
// has been told caught-up.
func (r *run) connect(ctx context.Context) error {
	r.base = time.Now()
	d := websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 256, WriteBufferPool: &sync.Pool{}}
	r.subs = make([]*subscriber, r.cfg.Subscribers)
	sem := make(chan struct{}, 64)
	errc := make(chan error, r.cfg.Subscribers)
	var wg sync.WaitGroup
	for i := range r.subs {
		s := &subscriber{r: r, provider: i % len(r.providers)}
		r.subs[i] = s
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			hdr := http.Header{"Authorization": {"Bearer " + r.tokens[s.provider]}}
			ws, resp, err := d.DialContext(ctx, "ws://"+r.l.addr+"/v1/live", hdr)
			if err != nil {
				if resp != nil {
					err = fmt.Errorf("%w (HTTP %d)", err, resp.StatusCode)
				}
				errc <- err
				return
			}
			s.ws = ws
			if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","from":"now"}`)); err != nil {
				errc <- err
				return
			}
			// subscribed, then caught-up: read in this goroutine so that
			// connect returns only once every feed is live.
			for {
				_ = ws.SetReadDeadline(time.Now().Add(60 * time.Second))
				_, b, err := ws.ReadMessage()
				if err != nil {
					errc <- fmt.Errorf("subscriber %d: %w", i, err)
					return
				}
				var m wireMessage
				if err := json.Unmarshal(b, &m); err != nil {
					errc <- err
					return
				}
				if m.Type == live.TypeSubscribed {
					f, ok := m.From.(float64)
					if !ok {
						errc <- fmt.Errorf("subscribed from %v, want a position", m.From)
						return
					}
					s.from = uint64(f)
				}
				if m.Type == live.TypeCaughtUp {
					s.reached = m.Position
					break
				}
				if m.Type != live.TypeSubscribed {
					errc <- fmt.Errorf("subscriber %d: %s before caught-up", i, b)
					return
				}
			}
			_ = ws.SetReadDeadline(time.Time{})
			go s.read()
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return fmt.Errorf("loadtest: connect: %w", err)
	}
	return nil
}

// read reads messages until the connection ends, noting for each event its
// position and how long after its command was sent it arrived.
func (s *subscriber) read() {
	// One buffer for every message: the subscribers share the server's cores, so what
	// they allocate is the server's garbage to collect too.
	var buf bytes.Buffer
	for {
		_, r, err := s.ws.NextReader()
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		b := buf.Bytes()
		now := time.Since(s.r.base)
		if err != nil {
			s.mu.Lock()
			s.closed = !s.stopping
			s.mu.Unlock()
			return
		}
		var m wireMessage
		if decodeWire(b, &m) != nil {
			continue
		}
		if m.Type != live.TypeEvent {
			if m.Type == live.TypeCheckpoint {
				s.mu.Lock()
				s.reached = max(s.reached, m.Position)
				s.mu.Unlock()
			}
			continue
		}
		var lat float64 = -1
		if n, ok := strings.CutPrefix(m.CorrelationID, "lt-"); ok {
			if i, err := strconv.Atoi(n); err == nil && i < len(s.r.sent) {
				if t := s.r.sent[i].Load(); t > 0 {
					lat = float64((now - time.Duration(t)).Microseconds()) / 1000
				}
			}
		}
		s.mu.Lock()
		s.reached = max(s.reached, m.Position)
		if m.Position <= s.last {
			s.dups++
		} else {
			s.last = m.Position
			s.positions = append(s.positions, m.Position)
			if lat >= 0 {
				s.latencies = append(s.latencies, lat)
			}
		}
		s.mu.Unlock()
	}
}

// regionsAndAreas are the 12 NPS regions, which hold every case since 26 June
// 2021, each with the first contract package area it covers.
func regionsAndAreas() (orgs, areas []string) {
	seen := map[string]bool{}
	for _, a := range journeygen.Areas() {
		r, ok := aggregates.NPSRegionFor(a)
		if !ok || seen[r] {
			continue
		}
		seen[r] = true
		orgs = append(orgs, string(aggregates.NPSRegionOrg(r)))
		areas = append(areas, a)
	}
	return orgs, areas
}
