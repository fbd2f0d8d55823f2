package pages_test

// The browser test harness: the real ledger (embedded store, read models,
// command service, API, live feed and pages, started as `gateledger serve`
// starts them, through package instance) on loopback, and Debian's Chromium driven headless through
// chromedp. Every step can be screenshotted (testdata/screenshots, not
// committed) and checked with axe-core, injected from web/node_modules.
//
// Reuse: startLedger(t) for the server, l.token(role, org) for a bearer
// token, l.command(...) to record facts through the API, newBrowser(t, l,
// name) for a browser session of its own, b.signIn(role, org), b.visit(path)
// (navigate, screenshot, axe), b.do(actions...), b.screenshot(step) and
// b.checkAxe(step).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/instance"
	"github.com/gateledger/gateledger/instance/instancetest"
	"github.com/gateledger/gateledger/internal/throttle"
	"github.com/gateledger/gateledger/journeys"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/projections/readmodel"
	"github.com/gateledger/gateledger/web"
	"github.com/gateledger/gateledger/web/live"
	"github.com/gateledger/gateledger/web/pages"
)

// stack is a running Gateledger on loopback.
type stack struct {
	t        *testing.T
	URL      string
	store    *eventstore.Conn
	svc      *journeys.Service
	runner   *readmodel.Runner
	tokens   *auth.Tokens
	access   *auth.AccessLog
	sessions *pages.Sessions
	live     *live.Handler

	mu  sync.Mutex
	tok map[string]string // "role/org" -> token
}

// ledgerOptions change how startLedger configures the instance.
type ledgerOptions struct {
	// oidcIssuer and oidcClient, when set, accept that identity provider's
	// JWTs and offer its sign-in.
	oidcIssuer, oidcClient string
	// throttle, when set, is the budget of the API, the pages and the feed;
	// otherwise every limit is off.
	throttle *throttle.Config
}

// startLedger starts the whole ledger on 127.0.0.1 with the embedded event
// store, as `gateledger serve` starts it (package instance), without the
// closer and the dead-letter redriver, whose writes would race the tests'.
func startLedger(t *testing.T, opts ...func(*ledgerOptions)) *stack {
	t.Helper()
	var o ledgerOptions
	for _, f := range opts {
		f(&o)
	}
	inst := instancetest.Start(t, func(c *instance.Config) {
		c.NoAutomaticWork = true
		if o.oidcIssuer != "" {
			c.OIDC = auth.OIDCConfig{Issuer: o.oidcIssuer, Audience: o.oidcClient}
			c.OIDCClientSecret = "test-secret"
		}
		if o.throttle != nil {
			c.Throttle = *o.throttle
		}
	})
	return &stack{t: t, URL: inst.URL(), store: inst.Store(), svc: inst.Journeys(), runner: inst.Runner(), tokens: inst.Tokens(),
		access: inst.AccessLog(), sessions: inst.Sessions(), live: inst.Live(), tok: map[string]string{}}
}

// token returns a bearer token for role and org (one per pair).
func (l *stack) token(role auth.Role, org string) string {
	l.t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	k := string(role) + "/" + org
	if tok, ok := l.tok[k]; ok {
		return tok
	}
	name := "Test " + string(role)
	if org != "" {
		name += " " + org
	}
	tok, _, err := l.tokens.Create(context.Background(), role, org, name, "test", time.Time{})
	if err != nil {
		l.t.Fatal(err)
	}
	l.tok[k] = tok
	return tok
}

// command sends a command through the API as role/org and fails the test
// unless it is recorded (201). It returns once every read model has applied
// it, with its $all position.
func (l *stack) command(role auth.Role, org, noms, path string, body any) uint64 {
	l.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		l.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, l.URL+"/v1/journeys/"+noms+path, bytes.NewReader(b))
	if err != nil {
		l.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+l.token(role, org))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	ans, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		l.t.Fatalf("POST %s%s: %d %s", noms, path, resp.StatusCode, ans)
	}
	pos, err := strconv.ParseUint(resp.Header.Get(web.HeaderPosition), 10, 64)
	if err != nil {
		l.t.Fatalf("POST %s%s: position: %v", noms, path, err)
	}
	l.caughtUp(pos)
	return pos
}

// caughtUp waits until every read model has applied pos.
func (l *stack) caughtUp(pos uint64) {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, p := range []string{projections.AuditName, projections.CaseloadName, projections.HandoversName,
		projections.OutcomesName, projections.PlansName} {
		if err := l.runner.WaitFor(ctx, p, pos); err != nil {
			l.t.Fatalf("read model %s at %d: %v", p, pos, err)
		}
	}
}

// receive records a sentence reception of noms into prison, two days ago.
func (l *stack) receive(noms, prison string) {
	l.t.Helper()
	l.command(auth.RolePrison, prison, noms, "/receptions", map[string]any{"kind": "SENTENCE", "prison": prison,
		"at": time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)})
}

// browserNeeds says what the browser tests need and how to get it; under
// -short the tests skip when it is missing, otherwise they fail.
func browserNeeds(t *testing.T) (chromium, axe string) {
	t.Helper()
	var missing []string
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		missing = append(missing, "Chromium (apt-get install chromium)")
	}
	axe, _ = filepath.Abs(filepath.Join("..", "node_modules", "axe-core", "axe.min.js"))
	if _, err := os.Stat(axe); err != nil {
		missing = append(missing, "web/node_modules (npm ci in web/)")
	}
	if !pages.AssetsBuilt() {
		missing = append(missing, "the front-end assets (make assets)")
	}
	if len(missing) > 0 {
		msg := "browser tests need " + strings.Join(missing, ", ") + ": run `make test`, which installs them"
		if testing.Short() {
			t.Skip(msg)
		}
		t.Fatal(msg)
	}
	return chromium, axe
}

var (
	axeOnce   sync.Once
	axeSource string
	axeErr    error
)

// browser is one browser session (its own Chromium, profile and cookies).
type browser struct {
	t    *testing.T
	l    *stack
	ctx  context.Context
	name string
	dir  string
	step int

	// problems are console errors and uncaught exceptions since the last
	// check: a Content-Security-Policy violation, a script error, an asset
	// that failed to load.
	mu       sync.Mutex
	problems []string
}

// newBrowser starts a headless Chromium with a temporary profile that
// reaches only loopback. name tells its screenshots apart.
func newBrowser(t *testing.T, l *stack, name string) *browser {
	t.Helper()
	chromium, axePath := browserNeeds(t)
	axeOnce.Do(func() {
		var b []byte
		b, axeErr = os.ReadFile(axePath)
		axeSource = string(b)
	})
	if axeErr != nil {
		t.Fatal(axeErr)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("metrics-recording-only", true),
		// Names resolve to nothing: the tests use 127.0.0.1 only.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// Start the browser on a context without a deadline (see chromedp.Run).
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		cancel()
		acancel()
		t.Fatalf("start Chromium: %v", err)
	}
	t.Cleanup(func() { cancel(); acancel() })
	dir := filepath.Join("testdata", "screenshots", sanitise(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Screenshots of an earlier run of this browser would mislead.
	old, _ := filepath.Glob(filepath.Join(dir, sanitise(name)+"-*.png"))
	for _, f := range old {
		_ = os.Remove(f)
	}
	b := &browser{t: t, l: l, ctx: ctx, name: name, dir: dir}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException {
				continue
			}
			// A page answered with an error status (404, 422 with the error
			// summary) is logged by the browser; the tests check those
			// statuses themselves.
			if strings.Contains(m.Text, "Failed to load resource") && !strings.Contains(m.URL, "/assets/") {
				continue
			}
			b.mu.Lock()
			b.problems = append(b.problems, m.String())
			b.mu.Unlock()
		}
	}()
	return b
}

// checkConsole fails the test on console errors since the last check.
func (b *browser) checkConsole(step string) {
	b.t.Helper()
	b.mu.Lock()
	p := b.problems
	b.problems = nil
	b.mu.Unlock()
	if len(p) > 0 {
		b.t.Errorf("%s: console errors by %s:\n%s", b.name, step, strings.Join(p, "\n"))
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func sanitise(s string) string { return unsafeName.ReplaceAllString(s, "_") }

// stepTimeout bounds one browser step.
const stepTimeout = 30 * time.Second

// do runs actions in the browser, failing the test on an error.
func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.screenshot("failed")
		b.t.Fatalf("%s: browser: %v", b.name, err)
	}
}

// run runs one action that returns a value.
func run[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.screenshot("failed")
		b.t.Fatalf("%s: browser: %v", b.name, err)
	}
	return v
}

// visit opens path, then screenshots and checks the page with axe.
func (b *browser) visit(path, step string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.l.URL+path), chromedp.WaitReady(chromedp.CSS("body")))
	b.page(step)
}

// page screenshots the current page, checks it with axe, and checks the
// console for errors (a CSP violation, a failed script or asset).
func (b *browser) page(step string) {
	b.t.Helper()
	b.screenshot(step)
	b.checkAxe(step)
	b.checkConsole(step)
	b.checkWords(step)
}

// checkWords fails the test if the text of the current page, as a person
// sees or hears it (visually hidden text included; scripts, templates and
// the raw feed messages a dead letter quotes left out), holds what
// wordFaults finds: template formatting errors, raw codes, ISO timestamps.
func (b *browser) checkWords(step string) {
	b.t.Helper()
	text := run(b, chromedp.Evaluate[string](`(() => { const c = document.body.cloneNode(true);
		c.querySelectorAll('script, template, noscript, .gl-message').forEach((e) => e.remove());
		return c.textContent; })()`))
	for _, f := range wordFaults(text) {
		b.t.Errorf("%s: %s shows %s", b.name, step, f)
	}
}

// signIn signs in through the sign-in page with a token for role and org,
// and waits for the page it leads to.
func (b *browser) signIn(role auth.Role, org string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.l.URL+"/sign-in"), chromedp.WaitVisible(chromedp.ID("token")))
	b.page("sign-in")
	b.do(chromedp.SendKeys(chromedp.ID("token"), b.l.token(role, org)))
	b.submit("form[action='/sign-in'] button")
	if loc := run(b, chromedp.Location()); strings.Contains(loc, "/sign-in") {
		b.screenshot("sign-in-failed")
		b.t.Fatalf("%s: still on %s after signing in", b.name, loc)
	}
}

// narrow shows the current page 320 CSS pixels wide (WCAG 2.2 reflow),
// screenshots it, checks it with axe and fails the test if the page
// scrolls sideways; then it restores the window's width.
func (b *browser) narrow(step string) {
	b.t.Helper()
	b.do(chromedp.EmulateViewport(320, 800))
	defer b.do(chromedp.EmulateViewport(1280, 1000))
	b.page(step + "-320px")
	if w := run(b, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 320 {
		b.t.Errorf("%s: %s is %d px wide at 320 px: it scrolls sideways", b.name, step, w)
	}
}

// submit clicks a form's button and waits for the page the browser lands on
// (after any redirects).
func (b *browser) submit(css string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(css))); err != nil {
		b.screenshot("failed")
		b.t.Fatalf("%s: submit %s: %v", b.name, css, err)
	}
}

// text is the text of the first element matching a CSS selector.
func (b *browser) text(css string) string {
	b.t.Helper()
	return run(b, chromedp.Text(chromedp.CSS(css)))
}

// screenshot saves the whole page as <test>/<browser>-NN-<step>.png.
func (b *browser) screenshot(step string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("%s: screenshot %s: %v", b.name, step, err)
		return
	}
	b.step++
	name := filepath.Join(b.dir, fmt.Sprintf("%s-%02d-%s.png", sanitise(b.name), b.step, sanitise(step)))
	if err := os.WriteFile(name, png, 0o644); err != nil {
		b.t.Errorf("screenshot: %v", err)
	}
}

// axeResult is what checkAxe reads of axe.run's answer.
type axeResult struct {
	Violations []struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Nodes  []struct {
			Target []any  `json:"target"`
			HTML   string `json:"html"`
		} `json:"nodes"`
	} `json:"violations"`
}

// checkAxe runs axe-core on the current page against WCAG 2.2 A and AA and
// best practice, and fails the test on any serious or critical violation.
func (b *browser) checkAxe(step string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axeSource)); err != nil {
		b.t.Fatalf("%s: inject axe-core: %v", b.name, err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](`axe.run(document, {runOnly: {type: "tag", values: `+
		`["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}, resultTypes: ["violations"]})`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: axe on %s: %v", b.name, step, err)
	}
	var res axeResult
	if err := json.Unmarshal(raw, &res); err != nil {
		b.t.Fatalf("%s: axe answer: %v", b.name, err)
	}
	var bad []string
	for _, v := range res.Violations {
		if v.Impact != "serious" && v.Impact != "critical" {
			continue
		}
		for _, n := range v.Nodes {
			bad = append(bad, fmt.Sprintf("%s (%s): %s at %v: %s", v.ID, v.Impact, v.Help, n.Target, n.HTML))
		}
	}
	if len(bad) > 0 {
		b.t.Errorf("%s: axe found %d serious or critical violations on %s:\n%s", b.name, len(bad), step, strings.Join(bad, "\n"))
	}
}
