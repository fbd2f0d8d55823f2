package web

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/web/problem"
)

// TestJourneyThroughTheAPI is the through-the-gate story over HTTP: a prison
// receives and screens a person, drafts the plan, hands the case to a
// provider, who sees and accepts it and reads its caseload and the plan;
// another organisation sees nothing of it; the inspector sees everything and
// may write nothing; every read of the person is in the access log.
func TestJourneyThroughTheAPI(t *testing.T) {
	w := newWorld(t, nil)
	const noms = "A1234BC"
	j := "/v1/journeys/" + noms

	w.receive(noms, "mdi", "MDI")
	scr := w.do(req{method: "POST", path: j + "/screenings", as: "mdi", body: map[string]any{"at": ago(47 * time.Hour)}}).ok(t, http.StatusCreated)
	if scr.header.Get("ETag") != `"1"` {
		t.Fatalf("ETag after the second event %q, want \"1\"", scr.header.Get("ETag"))
	}
	// A prison may not draft the plan (that is case work for providers)...
	w.do(req{method: "POST", path: j + "/plan", as: "mdi", body: map[string]any{"summary": "x", "at": ago(46 * time.Hour)}}).
		problem(t, problem.Forbidden)
	// ...but may hand the case to a provider.
	ho := w.do(req{method: "POST", path: j + "/handovers", as: "mdi",
		body: map[string]any{"to": "NPS-C", "reason": "release planning", "at": ago(45 * time.Hour)}}).ok(t, http.StatusCreated)
	pos := ho.header.Get(HeaderPosition)
	if pos == "" {
		t.Fatal("no position header on a command")
	}

	// The receiving provider sees the handover in its queue (read-your-writes
	// through Gateledger-Min-Position) and the plan.
	q := w.do(req{method: "GET", path: "/v1/organisations/NPS-C/handovers", as: "c05", header: map[string]string{HeaderMinPosition: pos}}).
		ok(t, http.StatusOK).json(t)
	recv := q["receiving"].([]any)
	if len(recv) != 1 || recv[0].(map[string]any)["noms"] != noms || recv[0].(map[string]any)["status"] != "OPEN" {
		t.Fatalf("NPS-C receiving queue: %v", q)
	}
	plan := w.do(req{method: "GET", path: j + "/plan", as: "c05"}).ok(t, http.StatusOK)
	if plan.header.Get("ETag") == "" || plan.json(t)["noms"] != noms {
		t.Fatalf("plan: %s %v", plan.body, plan.header)
	}
	w.do(req{method: "POST", path: j + "/handovers/current/acceptance", as: "c05", body: map[string]any{"at": ago(44 * time.Hour)}}).
		ok(t, http.StatusCreated)
	draft := w.do(req{method: "POST", path: j + "/plan", as: "c05", body: map[string]any{"summary": "housing first", "at": ago(43 * time.Hour)}}).
		ok(t, http.StatusCreated)

	cl := w.do(req{method: "GET", path: "/v1/organisations/NPS-C/caseload", as: "c05",
		header: map[string]string{HeaderMinPosition: draft.header.Get(HeaderPosition)}}).ok(t, http.StatusOK).json(t)
	cases := cl["cases"].([]any)
	if len(cases) != 1 || cases[0].(map[string]any)["noms"] != noms {
		t.Fatalf("NPS-C caseload: %v", cl)
	}
	p := w.do(req{method: "GET", path: j + "/plan", as: "c05"}).ok(t, http.StatusOK).json(t)
	if p["plan"].(map[string]any)["summary"] != "housing first" {
		t.Fatalf("plan after draft: %v", p)
	}

	// Another provider and another prison: the person does not exist for them.
	for _, as := range []string{"c17", "lei"} {
		for _, path := range []string{j, j + "/plan", j + "/trail", j + "/verification"} {
			w.do(req{method: "GET", path: path, as: as}).problem(t, problem.NotFound)
		}
		w.do(req{method: "POST", path: j + "/risk", as: as, body: map[string]any{"level": "HIGH", "at": ago(time.Hour)}}).
			problem(t, problem.NotFound)
	}
	// Unknown person: the same answer.
	w.do(req{method: "GET", path: "/v1/journeys/Z9999ZZ/plan", as: "c05"}).problem(t, problem.NotFound)
	// Another organisation's queues are refused.
	w.do(req{method: "GET", path: "/v1/organisations/NPS-C/caseload", as: "c17"}).problem(t, problem.Forbidden)
	w.do(req{method: "GET", path: "/v1/organisations/NPS-C/handovers", as: "mdi"}).problem(t, problem.Forbidden)

	// The inspector reads everything and writes nothing.
	for _, path := range []string{j, j + "/plan", j + "/trail", j + "/verification", "/v1/organisations/NPS-C/caseload",
		"/v1/organisations/MDI/handovers", "/v1/outcomes", "/v1/verification"} {
		w.do(req{method: "GET", path: path, as: "inspector"}).ok(t, http.StatusOK)
	}
	w.do(req{method: "POST", path: j + "/risk", as: "inspector", body: map[string]any{"level": "HIGH", "at": ago(time.Hour)}}).
		problem(t, problem.Forbidden)
	ver := w.do(req{method: "GET", path: j + "/verification", as: "inspector"}).ok(t, http.StatusOK).json(t)
	if ver["ok"] != true || ver["checked"].(float64) != 5 {
		t.Fatalf("verification: %v", ver)
	}

	// Audit trail as at a position: only the events recorded by then, and the
	// journey as it stood.
	trail := w.do(req{method: "GET", path: j + "/trail?as_at_position=" + pos, as: "inspector"}).ok(t, http.StatusOK).json(t)
	if n := len(trail["entries"].([]any)); n != 3 {
		t.Fatalf("trail as at the handover request has %d entries, want 3", n)
	}
	if trail["journey"].(map[string]any)["holder"] != nil {
		t.Fatalf("as at the request, nobody had accepted: %v", trail["journey"])
	}
	full := w.do(req{method: "GET", path: j + "/trail?as_at=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339), as: "c05"}).
		ok(t, http.StatusOK).json(t)
	if n := len(full["entries"].([]any)); n != 5 {
		t.Fatalf("trail as at now has %d entries, want 5", n)
	}

	// Every read of the person is recorded, and the inspector can read the log.
	al := w.do(req{method: "GET", path: "/v1/access-log", as: "inspector"}).ok(t, http.StatusOK).json(t)
	seen := map[string]int{}
	for _, e := range al["entries"].([]any) {
		m := e.(map[string]any)
		subject, _ := m["subject"].(string)
		seen[m["principalId"].(string)+" "+m["what"].(string)+" "+subject]++
	}
	c05ID := principalID(t, w, "c05")
	for _, want := range []string{c05ID + " read plan " + noms, c05ID + " read caseload NPS-C", c05ID + " read handovers NPS-C",
		c05ID + " read audit trail " + noms} {
		if seen[want] == 0 {
			t.Errorf("access log lacks %q; has %v", want, seen)
		}
	}
	// Refused reads are not accesses.
	for k := range seen {
		if strings.HasPrefix(k, principalID(t, w, "c17")) {
			t.Errorf("a refused read was recorded: %s", k)
		}
	}
	w.do(req{method: "GET", path: "/v1/access-log", as: "c05"}).problem(t, problem.Forbidden)
}

func principalID(t *testing.T, w *world, name string) string {
	t.Helper()
	p, err := w.tokens.Verify(context.Background(), w.tok[name])
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// TestIdempotentRetry: a retried command with the same Idempotency-Key gets
// the first answer byte for byte, even after the state moved on, and records
// nothing twice; the same key for another command is refused.
func TestIdempotentRetry(t *testing.T) {
	w := newWorld(t, nil)
	const noms = "B2345CD"
	j := "/v1/journeys/" + noms
	w.receive(noms, "mdi", "MDI")
	w.do(req{method: "POST", path: j + "/handovers", as: "mdi", body: map[string]any{"to": "NPS-C", "reason": "r", "at": ago(40 * time.Hour)}}).
		ok(t, http.StatusCreated)
	key := map[string]string{"Idempotency-Key": "accept-1"}
	body := map[string]any{"at": ago(39 * time.Hour)}
	first := w.do(req{method: "POST", path: j + "/handovers/current/acceptance", as: "c05", body: body, header: key}).ok(t, http.StatusCreated)
	// The handover is no longer open, yet the retry answers as the first time.
	again := w.do(req{method: "POST", path: j + "/handovers/current/acceptance", as: "c05", body: body, header: key})
	if again.status != first.status || !bytes.Equal(again.body, first.body) {
		t.Fatalf("retry answered %d %s, first %d %s", again.status, again.body, first.status, first.body)
	}
	if again.header.Get(HeaderReplayed) != "true" || again.header.Get("ETag") != first.header.Get("ETag") {
		t.Fatalf("retry headers %v", again.header)
	}
	st, err := w.svc.LoadStream(context.Background(), noms)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(st.Events); n != 3 {
		t.Fatalf("journey has %d events after a retried acceptance, want 3", n)
	}
	// Same key, different command.
	w.do(req{method: "POST", path: j + "/risk", as: "c05", body: map[string]any{"level": "LOW", "at": ago(time.Hour)}, header: key}).
		problem(t, problem.KeyReused)
	// Another principal's identical key is its own.
	w.do(req{method: "POST", path: j + "/handovers/current/acceptance", as: "c17", body: body, header: key}).problem(t, problem.NotFound)
}

// TestIfMatch: a command sent against a revision the journey has left answers
// 412 and records nothing; the current revision passes.
func TestIfMatch(t *testing.T) {
	w := newWorld(t, nil)
	const noms = "C3456DE"
	j := "/v1/journeys/" + noms
	rec := w.receive(noms, "mdi", "MDI")
	etag := rec.header.Get("ETag")
	if etag != `"0"` {
		t.Fatalf("ETag %q", etag)
	}
	w.do(req{method: "POST", path: j + "/screenings", as: "mdi", body: map[string]any{"at": ago(47 * time.Hour)}, header: map[string]string{"If-Match": etag}}).
		ok(t, http.StatusCreated)
	p := w.do(req{method: "POST", path: j + "/release-dates", as: "mdi", header: map[string]string{"If-Match": etag},
		body: map[string]any{"dates": map[string]any{"conditionalReleaseDate": "2030-01-01"}, "at": ago(time.Hour)}}).problem(t, problem.RevisionMismatch)
	if p.CurrentRevision == nil || *p.CurrentRevision != 1 {
		t.Fatalf("problem %+v", p)
	}
	got := w.do(req{method: "GET", path: j, as: "mdi"}).ok(t, http.StatusOK)
	if got.header.Get("ETag") != `"1"` {
		t.Fatalf("journey ETag %q after a refused command", got.header.Get("ETag"))
	}
	w.do(req{method: "POST", path: j + "/release-dates", as: "mdi", header: map[string]string{"If-Match": `W/"1"`},
		body: map[string]any{"dates": map[string]any{"conditionalReleaseDate": "2030-01-01"}, "at": ago(time.Hour)}}).problem(t, problem.Validation)
	w.do(req{method: "POST", path: j + "/release-dates", as: "mdi", header: map[string]string{"If-Match": `"1"`},
		body: map[string]any{"dates": map[string]any{"conditionalReleaseDate": "2030-01-01"}, "at": ago(time.Hour)}}).ok(t, http.StatusCreated)
}

// TestRequestValidation: malformed bodies and identifiers are refused with
// problem details naming the fields.
func TestRequestValidation(t *testing.T) {
	w := newWorld(t, func(c *Config) { c.MaxBodyBytes = 4096 })
	const j = "/v1/journeys/D4567EF"
	w.receive("D4567EF", "mdi", "MDI")
	tests := []struct {
		name   string
		path   string
		body   any
		header map[string]string
		kind   problem.Kind
		fields []string
	}{
		{"unknown field", j + "/risk", `{"level":"HIGH","at":"2026-01-01T00:00:00Z","extra":1}`, nil, problem.MalformedRequest, []string{"extra"}},
		{"wrong type", j + "/mappa", `{"level":"two","at":"2026-01-01T00:00:00Z"}`, nil, problem.MalformedRequest, []string{"level"}},
		{"two values", j + "/screenings", `{"at":"2026-01-01T00:00:00Z"}{"at":"2026-01-01T00:00:00Z"}`, nil, problem.MalformedRequest, nil},
		{"not JSON", j + "/screenings", `at=now`, nil, problem.MalformedRequest, nil},
		{"empty", j + "/screenings", ``, nil, problem.MalformedRequest, nil},
		{"array", j + "/screenings", `[]`, nil, problem.MalformedRequest, nil},
		{"missing fields", j + "/receptions", `{}`, nil, problem.Validation, []string{"kind", "prison", "at"}},
		{"bad enum and time", j + "/releases", `{"kind":"ESCAPED","prison":"MDI","at":"yesterday"}`, nil, problem.Validation, []string{"kind", "at"}},
		{"bad prison", j + "/movements", `{"kind":"COURT_OUT","prison":"mdi","at":"2026-01-01T00:00:00Z"}`, nil, problem.Validation, []string{"prison"}},
		{"bad NOMS", "/v1/journeys/A123/screenings", `{"at":"2026-01-01T00:00:00Z"}`, nil, problem.Validation, []string{"noms"}},
		{"lower-case NOMS", "/v1/journeys/a1234bc/plan", `{"summary":"s","at":"2026-01-01T00:00:00Z"}`, nil, problem.Validation, []string{"noms"}},
		{"bad pathway", j + "/pathways/HOUSING/needs", `{"description":"d","at":"2026-01-01T00:00:00Z"}`, nil, problem.Validation, []string{"pathway"}},
		{"bad action id", j + "/actions/-x/completion", `{"outcome":"o","at":"2026-01-01T00:00:00Z"}`, nil, problem.Validation, []string{"id"}},
		{"reason required", j + "/pathways/HEALTH/status", `{"status":"SUPPORT_DECLINED","at":"2026-01-01T00:00:00Z"}`, nil, problem.Validation, []string{"reason"}},
		{"bad dates", j + "/release-dates", `{"dates":{"hdcActualDate":"2030-02-30"},"at":"2026-01-01T00:00:00Z"}`, nil, problem.Validation, []string{"dates.hdcActualDate"}},
		{"no dates", j + "/release-dates", `{"dates":{},"at":"2026-01-01T00:00:00Z"}`, nil, problem.Validation, []string{"dates"}},
		{"mappa range", j + "/mappa", `{"level":4,"at":"2026-01-01T00:00:00Z"}`, nil, problem.Validation, []string{"level"}},
		{"bad key", j + "/screenings", `{"at":"2026-01-01T00:00:00Z"}`, map[string]string{"Idempotency-Key": "a b"}, problem.Validation, []string{"Idempotency-Key"}},
		{"future fact", j + "/screenings", map[string]any{"at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, nil, problem.RuleViolation, []string{"at"}},
		{"rule", j + "/screenings", `{"at":"` + ago(72*time.Hour) + `"}`, nil, problem.RuleViolation, nil},
		{"media type", j + "/screenings", `{"at":"2026-01-01T00:00:00Z"}`, map[string]string{"Content-Type": "text/plain"}, problem.MediaType, nil},
		{"too large", j + "/plan", `{"summary":"` + strings.Repeat("x", 5000) + `","at":"2026-01-01T00:00:00Z"}`, nil, problem.TooLarge, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Validation comes before authorisation: what is wrong with a
			// request says nothing about the case.
			p := w.do(req{method: "POST", path: tc.path, as: "mdi", body: tc.body, header: tc.header}).problem(t, tc.kind)
			var got []string
			for _, e := range p.Errors {
				got = append(got, e.Field)
				if e.Message == "" {
					t.Errorf("field %s has no message", e.Field)
				}
			}
			if tc.fields != nil && strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Fatalf("fields %v, want %v (%+v)", got, tc.fields, p)
			}
		})
	}
}

// TestRoutingProblems: unknown routes, wrong methods and missing credentials
// are problems too.
func TestRoutingProblems(t *testing.T) {
	w := newWorld(t, nil)
	w.do(req{method: "GET", path: "/v1/nothing", as: "mdi"}).problem(t, problem.NotFound)
	a := w.do(req{method: "DELETE", path: "/v1/journeys/A1234BC/plan", as: "mdi"})
	a.problem(t, problem.MethodNotAllowed)
	if !strings.Contains(a.header.Get("Allow"), "GET") || !strings.Contains(a.header.Get("Allow"), "POST") {
		t.Fatalf("Allow %q", a.header.Get("Allow"))
	}
	u := w.do(req{method: "GET", path: "/v1/journeys/A1234BC"})
	u.problem(t, problem.Unauthenticated)
	if !strings.HasPrefix(u.header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("WWW-Authenticate %q", u.header.Get("WWW-Authenticate"))
	}
	w.do(req{method: "GET", path: "/v1/journeys/A1234BC", as: "glt_nope_nope"}).problem(t, problem.Unauthenticated)
	w.do(req{method: "GET", path: "/v1/live", as: "mdi"}).problem(t, problem.NotFound)
}

// TestRateLimit: a principal over its burst gets 429 with Retry-After, and
// another principal is unaffected.
func TestRateLimit(t *testing.T) {
	w := newWorld(t, func(c *Config) { c.RateLimit = RateLimit{PerSecond: 0.1, Burst: 2} })
	for i := 0; i < 2; i++ {
		w.do(req{method: "GET", path: "/v1/outcomes", as: "c05"}).ok(t, http.StatusOK)
	}
	a := w.do(req{method: "GET", path: "/v1/outcomes", as: "c05"})
	a.problem(t, problem.RateLimited)
	if s, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || s < 1 || s > 10 {
		t.Fatalf("Retry-After %q", a.header.Get("Retry-After"))
	}
	w.do(req{method: "GET", path: "/v1/outcomes", as: "inspector"}).ok(t, http.StatusOK)
}

// TestFeedEndpoint: the three HMPPS samples are accepted from the feed
// principal (applied, ignored or dead-lettered, never a 4xx), and refused
// from anyone else.
func TestFeedEndpoint(t *testing.T) {
	w := newWorld(t, nil)
	sample := func(name string) []byte {
		b, err := os.ReadFile("../hmpps/testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, as := range []string{"mdi", "c05", "inspector", "admin"} {
		w.do(req{method: "POST", path: "/v1/feeds/hmpps", as: as, body: sample("intake-event.json")}).problem(t, problem.Forbidden)
	}
	want := map[string]string{"intake-event.json": "apply", "release-event.json": "", "recall-event.json": ""}
	for _, name := range []string{"intake-event.json", "release-event.json", "recall-event.json"} {
		a := w.do(req{method: "POST", path: "/v1/feeds/hmpps", as: "feed", body: sample(name),
			header: map[string]string{"Content-Type": "text/plain; charset=UTF-8"}})
		if a.status != http.StatusOK && a.status != http.StatusAccepted {
			t.Fatalf("%s: status %d %s", name, a.status, a.body)
		}
		m := a.json(t)
		if d := want[name]; d != "" && m["disposition"] != d {
			t.Fatalf("%s: %v", name, m)
		}
		if m["noms"] != "A4092EA" {
			t.Fatalf("%s: %v", name, m)
		}
	}
	// A message that cannot be read is kept and acknowledged: 202.
	a := w.do(req{method: "POST", path: "/v1/feeds/hmpps", as: "feed", body: `{"not":"hmpps"}`}).ok(t, http.StatusAccepted)
	if a.json(t)["disposition"] != "dead-letter" {
		t.Fatalf("%s", a.body)
	}
	// The intake is in the journey.
	got := w.do(req{method: "GET", path: "/v1/journeys/A4092EA", as: "inspector"}).ok(t, http.StatusOK).json(t)
	if got["journey"].(map[string]any)["receptions"].(float64) < 1 {
		t.Fatalf("journey after the feed: %v", got)
	}
}

// TestHealthReadyMetrics: healthz answers at once, readyz once the read
// models have caught up, and /metrics exposes the families.
func TestHealthReadyMetrics(t *testing.T) {
	w := newWorld(t, nil)
	w.do(req{method: "GET", path: "/healthz"}).ok(t, http.StatusOK)
	deadline := time.Now().Add(20 * time.Second)
	for {
		a := w.do(req{method: "GET", path: "/readyz"})
		if a.status == http.StatusOK {
			break
		}
		if a.status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("readyz %d %s", a.status, a.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.receive("E5678FG", "mdi", "MDI")
	w.metrics.LiveConnected()
	w.metrics.LiveDropped()
	w.metrics.LiveDisconnected()
	m := w.do(req{method: "GET", path: "/metrics"}).ok(t, http.StatusOK)
	for _, fam := range []string{"gateledger_http_requests_total", "gateledger_http_request_duration_seconds_bucket",
		"gateledger_commands_total", "gateledger_events_appended_total", "gateledger_projection_lag",
		"gateledger_store_last_position", "gateledger_projection_position", "gateledger_projections_live",
		"gateledger_live_connections", "gateledger_live_connections_total", "gateledger_live_drops_total", "go_goroutines"} {
		if !bytes.Contains(m.body, []byte("\n"+fam)) {
			t.Errorf("metrics lack %s", fam)
		}
	}
	if !bytes.Contains(m.body, []byte(`route="POST /v1/journeys/{noms}/receptions"`)) {
		t.Error("request metrics are not labelled by route pattern")
	}
	if bytes.Contains(m.body, []byte("E5678FG")) {
		t.Error("a NOMS number reached the metrics")
	}
}

// TestReadyzFlips: a server whose runner has not run is not ready; once the
// runner has caught up it is.
func TestReadyzFlips(t *testing.T) {
	w := newWorld(t, nil)
	w.receive("J9012KL", "mdi", "MDI")
	cfg := w.cfg
	idle := mustIdleRunner(t, w)
	cfg.Runner = idle
	cfg.Metrics = NewMetrics()
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ready := func() int {
		rec := newRecorder()
		h.ServeHTTP(rec, mustRequest(t, "GET", "/readyz"))
		return rec.Code
	}
	if c := ready(); c != http.StatusServiceUnavailable {
		t.Fatalf("readyz %d before the runner ran", c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = idle.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(20 * time.Second)
	for ready() != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("readyz never became ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTokenAdministration: admins create, list and revoke tokens; a revoked
// token stops working; nobody else may.
func TestTokenAdministration(t *testing.T) {
	w := newWorld(t, nil)
	w.do(req{method: "GET", path: "/v1/tokens", as: "inspector"}).problem(t, problem.Forbidden)
	c := w.do(req{method: "POST", path: "/v1/tokens", as: "admin", body: map[string]any{"role": "provider", "org": "C09", "name": "C09 desk"}}).
		ok(t, http.StatusCreated).json(t)
	tok := c["token"].(string)
	id := c["info"].(map[string]any)["id"].(string)
	w.do(req{method: "GET", path: "/v1/outcomes", as: tok}).ok(t, http.StatusOK)
	w.do(req{method: "POST", path: "/v1/tokens", as: "admin", body: map[string]any{"role": "provider", "org": "MDI", "name": "x"}}).
		problem(t, problem.Validation)
	list := w.do(req{method: "GET", path: "/v1/tokens", as: "admin"}).ok(t, http.StatusOK).json(t)
	if n := len(list["tokens"].([]any)); n != len(testPrincipals)+1 {
		t.Fatalf("%d tokens listed", n)
	}
	w.do(req{method: "DELETE", path: "/v1/tokens/" + id, as: "admin", body: map[string]any{"reason": "left"}}).ok(t, http.StatusOK)
	w.do(req{method: "GET", path: "/v1/outcomes", as: tok}).problem(t, problem.Unauthenticated)
	w.do(req{method: "DELETE", path: "/v1/tokens/nosuchid", as: "admin"}).problem(t, problem.NotFound)
	_ = auth.RoleAdmin
}

// TestTokenExpiryDefault: a token made through the API expires after
// auth.DefaultTokenLifetime unless the body says otherwise, as on the
// command line.
func TestTokenExpiryDefault(t *testing.T) {
	w := newWorld(t, nil)
	expiry := func(body map[string]any) string {
		t.Helper()
		c := w.do(req{method: "POST", path: "/v1/tokens", as: "admin", body: body}).ok(t, http.StatusCreated).json(t)
		e, _ := c["info"].(map[string]any)["expiresAt"].(string)
		return e
	}
	e, err := time.Parse(time.RFC3339Nano, expiry(map[string]any{"role": "inspector", "name": "default"}))
	if err != nil {
		t.Fatalf("no expiry by default: %v", err)
	}
	if d := time.Until(e); d < auth.DefaultTokenLifetime-time.Hour || d > auth.DefaultTokenLifetime+time.Hour {
		t.Fatalf("expires in %v, want about %v", d, auth.DefaultTokenLifetime)
	}
	if e := expiry(map[string]any{"role": "inspector", "name": "forever", "neverExpires": true}); e != "" {
		t.Fatalf("neverExpires gave expiry %q", e)
	}
	at := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	if e := expiry(map[string]any{"role": "inspector", "name": "two days", "expiresAt": at.Format(time.RFC3339)}); e != at.Format(time.RFC3339) {
		t.Fatalf("expiresAt %q, want %s", e, at.Format(time.RFC3339))
	}
	p := w.do(req{method: "POST", path: "/v1/tokens", as: "admin",
		body: map[string]any{"role": "inspector", "name": "both", "neverExpires": true, "expiresAt": at.Format(time.RFC3339)}}).problem(t, problem.Validation)
	if len(p.Errors) != 1 || p.Errors[0].Field != "neverExpires" {
		t.Fatalf("errors %+v", p.Errors)
	}
}

// TestUnrecordedReadIsRefused: when the access log cannot record a read, the
// read is not served (503), and nothing of the person is in the answer.
func TestUnrecordedReadIsRefused(t *testing.T) {
	w := newWorld(t, nil)
	const noms = "H8901JK"
	w.receive(noms, "mdi", "MDI")
	w.do(req{method: "GET", path: "/v1/journeys/" + noms, as: "mdi"}).ok(t, http.StatusOK)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.access.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"", "/plan", "/trail", "/trail.csv", "/verification"} {
		a := w.do(req{method: "GET", path: "/v1/journeys/" + noms + path, as: "mdi"})
		a.problem(t, problem.Unavailable)
		if bytes.Contains(a.body, []byte("MDI")) {
			t.Fatalf("a refused read leaked the case: %s", a.body)
		}
	}
	w.do(req{method: "GET", path: "/v1/organisations/MDI/caseload", as: "mdi"}).problem(t, problem.Unavailable)
}

// TestLiveMount: the live feed's handler is reached at GET /v1/live through
// the logging and metrics layers, and can take over the connection (the
// WebSocket upgrade hijacks it).
func TestLiveMount(t *testing.T) {
	w := newWorld(t, func(c *Config) {
		c.Live = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			hj, ok := rw.(http.Hijacker)
			if !ok {
				http.Error(rw, "no hijacker", http.StatusInternalServerError)
				return
			}
			conn, buf, err := hj.Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			_, _ = buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n")
			_ = buf.Flush()
		})
	})
	conn, err := net.Dial("tcp", strings.TrimPrefix(w.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = conn.Write([]byte("GET /v1/live HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n"))
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(line, "101") {
		t.Fatalf("status line %q (%v)", line, err)
	}
}

// TestConcurrentRetries: the same command sent many times at once under one
// Idempotency-Key records once, and every answer is the same.
func TestConcurrentRetries(t *testing.T) {
	w := newWorld(t, nil)
	const noms = "K0123LM"
	w.receive(noms, "mdi", "MDI")
	body := map[string]any{"dates": map[string]any{"conditionalReleaseDate": "2030-01-01"}, "at": ago(time.Hour)}
	const n = 8
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = w.do(req{method: "POST", path: "/v1/journeys/" + noms + "/release-dates", as: "mdi", body: body,
				header: map[string]string{"Idempotency-Key": "dates-1"}})
		}()
	}
	wg.Wait()
	for i, a := range answers {
		if a.status != http.StatusCreated || !bytes.Equal(a.body, answers[0].body) {
			t.Fatalf("answer %d: %d %s; answer 0: %d %s", i, a.status, a.body, answers[0].status, answers[0].body)
		}
	}
	st, err := w.svc.LoadStream(context.Background(), noms)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Events) != 2 {
		t.Fatalf("%d events, want 2", len(st.Events))
	}
}
