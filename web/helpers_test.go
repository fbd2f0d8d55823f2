package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/calendar"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/ingest"
	"github.com/gateledger/gateledger/journeys"
	"github.com/gateledger/gateledger/ledger"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/projections/readmodel"
	"github.com/gateledger/gateledger/web/problem"
)

// world is the ledger behind a real HTTP server on loopback: the embedded
// store, the command service, the feed, a running projections runner, built-in
// tokens and the access log. There is no mock anywhere.
type world struct {
	t       *testing.T
	store   *eventstore.Conn
	svc     *journeys.Service
	runner  *readmodel.Runner
	tokens  *auth.Tokens
	access  *auth.AccessLog
	cfg     Config
	srv     *httptest.Server
	tok     map[string]string // name -> bearer token
	metrics *Metrics
}

// principals the tests use, by name: role and organisation.
var testPrincipals = map[string][2]string{
	"mdi":       {"prison", "MDI"},
	"lei":       {"prison", "LEI"},
	"c05":       {"provider", "NPS-C"},
	"c17":       {"provider", "NPS-J"},
	"inspector": {"inspector", ""},
	"feed":      {"feed", ""},
	"admin":     {"admin", ""},
}

func newWorld(t *testing.T, adjust func(*Config)) *world {
	t.Helper()
	store := eventlogtest.Store(t)
	log := eventlogtest.Logger()
	policy := aggregates.DefaultPolicy(calendar.New(time.UTC))
	svc := &journeys.Service{Store: store, Policy: policy, Logger: log}
	runner, err := readmodel.Open(filepath.Join(t.TempDir(), "projections.db"), store.Client, log, projections.All(policy)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = runner.Run(ctx) }()
	tokens := auth.NewTokens(store.Client, auth.TokensConfig{Logger: log})
	access := auth.NewAccessLog(store.Client, auth.AccessLogConfig{Logger: log})
	w := &world{t: t, store: store, svc: svc, runner: runner, tokens: tokens, access: access, tok: map[string]string{}}
	w.cfg = Config{Store: store, Feed: &ingest.Feed{Journeys: svc, Logger: log}, Runner: runner, Policy: policy,
		Auth: &auth.Authenticator{Tokens: tokens, Logger: log}, Tokens: tokens, AccessLog: access, Logger: log,
		RateLimit: RateLimit{PerSecond: 1000, Burst: 1000}, WaitTimeout: 10 * time.Second}
	if adjust != nil {
		adjust(&w.cfg)
	}
	if w.cfg.Ledger == nil {
		if w.cfg.Ledger, err = ledger.New(ledger.Config{Journeys: svc, Runner: w.cfg.Runner, AccessLog: w.cfg.AccessLog,
			WaitTimeout: w.cfg.WaitTimeout, Logger: log}); err != nil {
			t.Fatal(err)
		}
	}
	w.metrics = NewMetrics()
	w.cfg.Metrics = w.metrics
	h, err := New(w.cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.srv = httptest.NewServer(h)
	t.Cleanup(func() {
		w.srv.Close()
		cancel()
		wg.Wait()
		_ = runner.Close()
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		_ = access.Close(cctx)
	})
	for name, ro := range testPrincipals {
		tok, _, err := tokens.Create(context.Background(), auth.Role(ro[0]), ro[1], "test "+name, "test", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		w.tok[name] = tok
	}
	return w
}

// answer is an HTTP answer as the tests look at it.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v\n%s", err, a.body)
	}
	return m
}

// problem checks the answer is a problem of kind k and returns it.
func (a answer) problem(t *testing.T, k problem.Kind) Problem {
	t.Helper()
	if a.status != k.Status {
		t.Fatalf("status %d, want %d (%s); body:\n%s", a.status, k.Status, k.Slug, a.body)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p Problem
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != k.Type() || p.Status != k.Status || p.Title == "" {
		t.Fatalf("problem %+v, want type %s status %d", p, k.Type(), k.Status)
	}
	return p
}

// req is one request; body may be a string or a value to encode as JSON.
type req struct {
	method, path, as string
	body             any
	header           map[string]string
}

func (w *world) do(r req) answer {
	w.t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			w.t.Fatal(err)
		}
		body = bytes.NewReader(j)
	}
	hr, err := http.NewRequest(r.method, w.srv.URL+r.path, body)
	if err != nil {
		w.t.Fatal(err)
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.as != "" {
		tok, ok := w.tok[r.as]
		if !ok {
			tok = r.as // a literal token
		}
		hr.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range r.header {
		if v == "" {
			hr.Header.Del(k)
		} else {
			hr.Header.Set(k, v)
		}
	}
	resp, err := w.srv.Client().Do(hr)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// ok checks the status.
func (a answer) ok(t *testing.T, want int) answer {
	t.Helper()
	if a.status != want {
		t.Fatalf("status %d, want %d; body:\n%s", a.status, want, a.body)
	}
	return a
}

// ago is a time in the recent past, as commands carry it.
func ago(d time.Duration) string { return time.Now().Add(-d).UTC().Format(time.RFC3339) }

// receive records a reception of noms into prison as that prison.
func (w *world) receive(noms, as, prison string) answer {
	w.t.Helper()
	return w.do(req{method: "POST", path: "/v1/journeys/" + noms + "/receptions", as: as,
		body: map[string]any{"kind": "SENTENCE", "prison": prison, "at": ago(48 * time.Hour)}}).ok(w.t, http.StatusCreated)
}

// mustIdleRunner opens a runner over the world's store that never runs.
func mustIdleRunner(t *testing.T, w *world) *readmodel.Runner {
	t.Helper()
	r, err := readmodel.Open(filepath.Join(t.TempDir(), "idle.db"), w.store.Client, eventlogtest.Logger(),
		projections.All(w.cfg.Policy)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func mustRequest(t *testing.T, method, path string) *http.Request {
	t.Helper()
	return httptest.NewRequest(method, path, nil)
}

var replacer = strings.NewReplacer("{pathway}", "HEALTH", "{id}", "a1", "{org}", "NPS-C")
