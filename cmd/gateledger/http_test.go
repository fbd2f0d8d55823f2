package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/instance"
	"github.com/gateledger/gateledger/internal/throttle"
	"github.com/gateledger/gateledger/web/live"
)

// ledger is serve's wiring (package instance: embedded store with TLS,
// projections runner, HTTP API with the live feed) started in-process on
// loopback, as serve starts it with --rate-limit 0.
type ledger struct {
	t      *testing.T
	inst   *instance.Instance
	tokens *auth.Tokens
}

func startLedger(t *testing.T, origins string) *ledger {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pol, err := policy()
	if err != nil {
		t.Fatal(err)
	}
	hc := httpConfig{rateLimit: "0", rateBurst: "1", origins: origins}
	limit, err := hc.limit()
	if err != nil {
		t.Fatal(err)
	}
	allowed, err := hc.allowedOrigins()
	if err != nil {
		t.Fatal(err)
	}
	inst, err := instance.Start(ctx, instance.Config{DataDir: filepath.Join(t.TempDir(), "data"), Policy: pol,
		Listen: "127.0.0.1:0", AllowedOrigins: allowed, Throttle: throttle.Config{Principal: limit}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	// Tokens are issued elsewhere than in the instance, as `gateledger token
	// create` issues them: the instance learns of them through its subscription.
	l := &ledger{t: t, inst: inst, tokens: auth.NewTokens(inst.Store().Client, auth.TokensConfig{Logger: log})}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := inst.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return l
}

func (l *ledger) token(role auth.Role, org string) string {
	l.t.Helper()
	tok, _, err := l.tokens.Create(context.Background(), role, org, fmt.Sprintf("test %s %s", role, org), "test", time.Time{})
	if err != nil {
		l.t.Fatal(err)
	}
	return tok
}

// post sends a command and fails the test unless it is recorded (201).
func (l *ledger) post(token, path, body string) {
	l.t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+l.inst.Addr().String()+path, strings.NewReader(body))
	if err != nil {
		l.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		l.t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
	}
}

func (l *ledger) dial(token string, hdr http.Header) (*websocket.Conn, *http.Response, error) {
	if hdr == nil {
		hdr = http.Header{}
	}
	if token != "" {
		hdr.Set("Authorization", "Bearer "+token)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	return d.Dial("ws://"+l.inst.Addr().String()+"/v1/live", hdr)
}

type wsMessage struct {
	Type      string `json:"type"`
	Position  uint64 `json:"position"`
	NOMS      string `json:"noms"`
	EventType string `json:"eventType"`
}

// subscribe connects with token, subscribes from now and returns the
// connection once the server has said caught-up.
func (l *ledger) subscribe(token string) *websocket.Conn {
	l.t.Helper()
	ws, resp, err := l.dial(token, nil)
	if err != nil {
		l.t.Fatalf("dial: %v (%v)", err, resp)
	}
	l.t.Cleanup(func() { _ = ws.Close() })
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","from":"now"}`)); err != nil {
		l.t.Fatal(err)
	}
	for _, want := range []string{live.TypeSubscribed, live.TypeCaughtUp} {
		if m := next(l.t, ws); m.Type != want {
			l.t.Fatalf("got %+v, want %s", m, want)
		}
	}
	return ws
}

func next(t *testing.T, ws *websocket.Conn) wsMessage {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m wsMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return m
}

// events reads event messages (skipping checkpoints) until it has n.
func events(t *testing.T, ws *websocket.Conn, n int) []string {
	t.Helper()
	var got []string
	var last uint64
	for len(got) < n {
		m := next(t, ws)
		if m.Type != live.TypeEvent {
			continue
		}
		if m.Position <= last {
			t.Fatalf("position %d after %d", m.Position, last)
		}
		last = m.Position
		got = append(got, m.EventType+" "+m.NOMS)
	}
	return got
}

// TestLiveFeedThroughServe: the live feed is mounted at /v1/live by serve's
// wiring; commands recorded through the HTTP API reach the subscribers that
// may see them, live, and no one else.
func TestLiveFeedThroughServe(t *testing.T) {
	l := startLedger(t, "")
	prison := l.token(auth.RolePrison, "LEI")
	c05 := l.token(auth.RoleProvider, "NPS-C")
	c17 := l.token(auth.RoleProvider, "NPS-J")
	// Tokens are created before first use: the server learns of tokens
	// issued elsewhere through its subscription, asynchronously.
	pvi := l.token(auth.RolePrison, "PVI")

	provider := l.subscribe(c05)
	other := l.subscribe(c17)
	prisonWS := l.subscribe(prison)

	l.post(prison, "/v1/journeys/A1234BC/receptions", `{"kind":"SENTENCE","prison":"LEI","at":"2024-03-02T09:00:00Z"}`)
	// The release area in West Yorkshire hands the case to NPS region C (the
	// unified model is in force since 26 June 2021).
	l.post(prison, "/v1/journeys/A1234BC/release-area", `{"area":"C05","at":"2024-03-03T09:00:00Z"}`)
	l.post(c05, "/v1/journeys/A1234BC/handovers/current/acceptance", `{"at":"2024-03-04T09:00:00Z"}`)
	l.post(c05, "/v1/journeys/A1234BC/risk", `{"level":"LOW","at":"2024-03-05T09:00:00Z"}`)

	got := events(t, provider, 3)
	want := []string{"HandoverRequested A1234BC", "HandoverAccepted A1234BC", "RiskAssessed A1234BC"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("provider NPS-C received %v, want %v", got, want)
	}
	// The prison holds the person throughout: it receives every event.
	if got := events(t, prisonWS, 5); got[0] != "PrisonerReceived A1234BC" || got[4] != "RiskAssessed A1234BC" {
		t.Errorf("prison received %v", got)
	}
	// Another provider receives nothing of the case: the first event it
	// receives is of a case handed to it afterwards.
	l.post(pvi, "/v1/journeys/B1234CD/receptions", `{"kind":"SENTENCE","prison":"PVI","at":"2024-03-02T09:00:00Z"}`)
	l.post(pvi, "/v1/journeys/B1234CD/release-area", `{"area":"C17","at":"2024-03-03T09:00:00Z"}`)
	if got := events(t, other, 1); got[0] != "HandoverRequested B1234CD" {
		t.Errorf("NPS-J received %v first, want its own HandoverRequested", got)
	}
}

// TestLiveFeedOriginAndShutdown: the default allowed origin is the listen
// address's own; another is refused; shutdown closes open feeds with 1001.
func TestLiveFeedOriginAndShutdown(t *testing.T) {
	l := startLedger(t, "")
	c05 := l.token(auth.RoleProvider, "C05")
	_, resp, err := l.dial(c05, http.Header{"Origin": {"https://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: err %v, resp %v; want 403", err, resp)
	}
	ws, _, err := l.dial(c05, http.Header{"Origin": {"http://" + l.inst.Addr().String()}})
	if err != nil {
		t.Fatalf("own origin refused: %v", err)
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe"}`)); err != nil {
		t.Fatal(err)
	}
	if m := next(t, ws); m.Type != live.TypeSubscribed {
		t.Fatalf("got %+v", m)
	}
	// Metrics count the open connection.
	resp, err = http.Get("http://" + l.inst.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(body, []byte("gateledger_live_connections 1")) {
		t.Errorf("metrics do not count the live connection:\n%s", grep(body, "gateledger_live"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- l.inst.Live().Shutdown(ctx) }()
	for {
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, _, err = ws.ReadMessage(); err != nil {
			break
		}
	}
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("read after shutdown: %v, want close 1001", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func grep(b []byte, s string) string {
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func TestAllowedOrigins(t *testing.T) {
	for _, bad := range []string{"ledger.example.org", "ftp://x", "https://x/path", "https://x?q"} {
		c := httpConfig{origins: bad}
		if _, err := c.allowedOrigins(); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	c := httpConfig{origins: " https://a.example , http://localhost:8080"}
	got, err := c.allowedOrigins()
	if err != nil || strings.Join(got, " ") != "https://a.example http://localhost:8080" {
		t.Errorf("got %v, %v", got, err)
	}
}
