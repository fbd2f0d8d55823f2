package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gateledger/gateledger/eventlog"
)

// ledgerProcess is one `gateledger serve --eventstore` child process.
type ledgerProcess struct {
	stop func()
	kill func()
	http string
}

// startInstance starts a ledger on the store at conn, with its own data
// directory (its read models), and waits until it serves.
func startInstance(t *testing.T, conn string) ledgerProcess {
	t.Helper()
	cmd, sc := startMain(t, []string{"GATELEDGER_HTTP_LISTEN=127.0.0.1:0"},
		"serve", "--log-format", "text", "--eventstore", conn, "--data", t.TempDir(), "--seal-interval", "0",
		"--rate-limit", "0")
	seen := strings.Join(waitFor(t, sc, "gateledger ready"), "\n")
	h := regexp.MustCompile(`http=(\S+)`).FindStringSubmatch(seen)
	if h == nil {
		t.Fatalf("no address logged:\n%s", seen)
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return ledgerProcess{http: h[1],
		stop: func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() },
		kill: func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }}
}

// call is one HTTP request to an instance; it returns the status (0 when the
// instance could not be reached), the body and the answer's headers.
func call(method, url, token, key, body string, header ...string) (int, string, http.Header) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, err.Error(), nil
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, err.Error(), nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestSeveralInstancesOnOneStore runs three ledger instances on one store node
// (docs/scaling.md): commands go through all three at once, to the same
// journeys, and one instance is killed in the middle. Every acknowledged command
// is in the store exactly once; a refused one is answered as documented; a read
// with Gateledger-Min-Position on another instance sees the write; a token
// revoked on one is refused by the others within the documented time.
func TestSeveralInstancesOnOneStore(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four ledger processes")
	}
	stopNode, _, esdbAddr := startLedgerProcess(t, t.TempDir(), "--seal-interval", "0")
	defer stopNode()
	conn := "esdb://" + esdbAddr + "?tls=false"
	token := func(args ...string) string {
		code, out, errOut := runCmd(t, append([]string{"token", "create", "--eventstore", conn, "--name", "instances test"}, args...)...)
		if code != 0 {
			t.Fatalf("token create %v: exit %d\n%s", args, code, errOut)
		}
		return strings.TrimSpace(out)
	}
	prison := token("--role", "prison", "--org", "MDI")
	victim := token("--role", "prison", "--org", "MDI")
	admin := token("--role", "admin")
	feed := token("--role", "feed")

	var ins [3]ledgerProcess
	for i := range ins {
		ins[i] = startInstance(t, conn)
		defer ins[i].stop()
	}
	url := func(i int, path string) string { return "http://" + ins[i].http + path }

	// Twelve people, each received through one of the instances.
	const people = 12
	noms := func(p int) string { return fmt.Sprintf("K%04dKK", p) }
	for p := range people {
		code, body, _ := call("POST", url(p%3, "/v1/journeys/"+noms(p)+"/receptions"), prison, "in-"+noms(p),
			`{"kind":"SENTENCE","prison":"MDI","at":"2026-06-01T09:00:00Z"}`)
		if code != http.StatusCreated {
			t.Fatalf("reception of %s: %d %s", noms(p), code, body)
		}
	}

	// Then each instance sends sentence recalculations for every person at
	// once, all to the same journeys (each with its own calculation id, so each
	// records an event); instance 2 is killed a third of the way.
	type ack struct{ noms, key string }
	var mu sync.Mutex
	var acked []ack
	answers := map[int]int{}
	var wg sync.WaitGroup
	const perInstance = 60
	killAt := make(chan struct{})
	for i := range ins {
		wg.Go(func() {
			for n := range perInstance {
				if i == 2 && n == perInstance/3 {
					close(killAt)
				}
				p := n % people
				key := fmt.Sprintf("calc-%d-%d", i, n)
				body := fmt.Sprintf(`{"bookingId":"1","calculationId":"%d","at":"2026-06-02T10:00:00Z"}`, 1000*(i+1)+n)
				code, _, _ := call("POST", url(i, "/v1/journeys/"+noms(p)+"/sentence-recalculations"), prison, key, body)
				mu.Lock()
				answers[code]++
				// 201: recorded; 200 is "already reflected", with nothing to find.
				if code == http.StatusCreated {
					acked = append(acked, ack{noms(p), key})
				}
				mu.Unlock()
			}
		})
	}
	<-killAt
	ins[2].kill()
	wg.Wait()
	t.Logf("answers by status: %v", answers)
	for code := range answers {
		switch code {
		case http.StatusCreated, http.StatusOK:
		case http.StatusConflict, http.StatusServiceUnavailable:
			// documented: the journey changed concurrently too many times
			// (retry), or the store was briefly unavailable.
		case 0:
			// the killed instance: nothing acknowledged.
		default:
			t.Errorf("an answer the API does not document for this: %d", code)
		}
	}
	if len(acked) < perInstance {
		t.Fatalf("only %d commands acknowledged", len(acked))
	}

	// Nothing acknowledged is lost, and nothing is recorded twice.
	client := insecureClient(t, esdbAddr)
	ctx := context.Background()
	keys := map[string]int{}
	for p := range people {
		st, err := eventlog.LoadJourney(ctx, client, noms(p))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range st.Events {
			// The API scopes a key to its sender: "http:<principal>:<key>".
			k := e.Metadata.IdempotencyKey
			keys[k[strings.LastIndex(k, ":")+1:]]++
		}
	}
	for k, n := range keys {
		if n > 1 {
			t.Errorf("idempotency key %s recorded %d times", k, n)
		}
	}
	for _, a := range acked {
		if keys[a.key] == 0 {
			t.Errorf("acknowledged %s on %s is not in the store", a.key, a.noms)
		}
	}

	// Read-your-writes across instances: a reception through instance 0, read
	// through instance 1's caseload with the position instance 0 answered.
	code, body, h := call("POST", url(0, "/v1/journeys/K9999KK/receptions"), prison, "in-K9999KK",
		`{"kind":"REMAND","prison":"MDI","at":"2026-06-03T09:00:00Z"}`)
	if code != http.StatusCreated || h.Get("Gateledger-Position") == "" {
		t.Fatalf("reception: %d %s", code, body)
	}
	code, body, _ = call("GET", url(1, "/v1/organisations/MDI/caseload"), prison, "", "", "Gateledger-Min-Position", h.Get("Gateledger-Position"))
	if code != http.StatusOK || !strings.Contains(body, "K9999KK") {
		t.Fatalf("caseload on another instance at the write's position: %d %.300s", code, body)
	}

	// Scheduled work happens once, not once per instance: a release that arrived
	// before its reception waits as a dead letter; when the reception arrives,
	// every instance's redriver sees it, and the release is recorded once.
	release := `{"eventType":"prison-offender-events.prisoner.released","occurredAt":"2026-06-05T10:00:00Z",` +
		`"additionalInformation":{"nomsNumber":"K8888KK","reason":"RELEASED","prisonId":"MDI","nomisMovementReasonCode":"NCS"}}`
	if code, body, _ := call("POST", url(0, "/v1/feeds/hmpps"), feed, "", release); code != http.StatusAccepted {
		t.Fatalf("release before reception: %d %s", code, body)
	}
	if code, body, _ := call("POST", url(1, "/v1/journeys/K8888KK/receptions"), prison, "in-K8888KK",
		`{"kind":"SENTENCE","prison":"MDI","at":"2026-06-01T09:00:00Z"}`); code != http.StatusCreated {
		t.Fatalf("reception: %d %s", code, body)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := eventlog.LoadJourney(ctx, client, "K8888KK")
		if err != nil {
			t.Fatal(err)
		}
		releases := 0
		for _, e := range st.Events {
			if e.Type == "PrisonerReleased" {
				releases++
			}
		}
		if releases > 1 {
			t.Fatalf("the redriven release was recorded %d times", releases)
		}
		if releases == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the waiting release was not redriven when its reception arrived")
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // let every instance's redriver have its turn
	dl, err := eventlog.ReadStream(ctx, client, "deadletter-hmpps")
	if err != nil {
		t.Fatal(err)
	}
	resolved := 0
	for _, r := range dl {
		if r.Type == "DeadLetterResolved" {
			resolved++
		}
	}
	if resolved != 1 {
		t.Fatalf("the dead letter was resolved %d times", resolved)
	}

	// A token revoked through instance 0 is refused by instance 1 within the
	// documented 2 s (checked with room for a loaded machine).
	if code, body, _ := call("GET", url(1, "/v1/journeys/K0000KK"), victim, "", ""); code != http.StatusOK {
		t.Fatalf("the token before revocation: %d %s", code, body)
	}
	id := regexp.MustCompile(`^glt_([0-9a-f]+)_`).FindStringSubmatch(victim)
	if id == nil {
		t.Fatalf("token %q has no id", victim)
	}
	if code, body, _ := call("DELETE", url(0, "/v1/tokens/"+id[1]), admin, "", `{"reason":"left the service"}`); code/100 != 2 {
		t.Fatalf("revoke: %d %s", code, body)
	}
	revoked := time.Now()
	for {
		code, _, _ := call("GET", url(1, "/v1/journeys/K0000KK"), victim, "", "")
		if code == http.StatusUnauthorized {
			t.Logf("revocation took effect on another instance after %s", time.Since(revoked).Round(10*time.Millisecond))
			break
		}
		if time.Since(revoked) > 10*time.Second {
			t.Fatalf("the revoked token is still accepted by another instance after %s (answer %d)", time.Since(revoked), code)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
