package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestImportDeliversFeedMessagesInOrder: import, against a real ledger on loopback,
// delivers a directory of feed messages in name order through the feed endpoint and
// reports what the ledger did with each; importing again records nothing twice; a file
// that cannot be read sends nothing at all.
func TestImportDeliversFeedMessagesInOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a ledger process")
	}
	dir := filepath.Join(t.TempDir(), "data")
	token := func(role string) string {
		code, out, errOut := runCmd(t, "token", "create", "--data", dir, "--role", role, "--name", role+"-check")
		if code != 0 {
			t.Fatalf("token create: %s", errOut)
		}
		return strings.TrimSpace(out)
	}
	feed, inspector := token("feed"), token("inspector")
	stop, httpAddr, _ := startLedgerProcess(t, dir)
	defer stop()

	// Given a reception and a release as SNS envelopes, then, as JSON Lines, an event
	// type the ledger does not consume and a reception it cannot map (no prison),
	msgs := t.TempDir()
	copyFile := func(src, dst string, replace ...string) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		b = []byte(strings.NewReplacer(replace...).Replace(string(b)))
		if err := os.WriteFile(filepath.Join(msgs, dst), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	copyFile("../../hmpps/testdata/intake-event.json", "1-intake.json")
	// The release sample releases from MDI; the intake sample receives into SWI, and a
	// release from a prison that does not hold the person is refused.
	copyFile("../../hmpps/testdata/release-event.json", "2-release.json", `\"prisonId\":\"MDI\"`, `\"prisonId\":\"SWI\"`)
	lines := `{"eventType":"prison-offender-events.prisoner.alerts-updated","occurredAt":"2024-12-12T10:00:00Z","additionalInformation":{"nomsNumber":"A4092EA"}}
{"eventType":"prison-offender-events.prisoner.received","occurredAt":"2024-12-13T10:00:00Z","additionalInformation":{"nomsNumber":"A4092EA","reason":"ADMISSION"}}
`
	if err := os.WriteFile(filepath.Join(msgs, "3-more.jsonl"), []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	// and beside them files that are not messages: a schema, and JSON that is not objects,
	for name, body := range map[string]string{"notes.txt": "not a message",
		"hmpps-domain-event.schema.json": `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object"}`,
		"4-counts.json":                  `[1, 2, 3]`} {
		if err := os.WriteFile(filepath.Join(msgs, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	trail := func() int {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			req, _ := http.NewRequest(http.MethodGet, "http://"+httpAddr+"/v1/journeys/A4092EA/trail", nil)
			req.Header.Set("Authorization", "Bearer "+inspector)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var out struct {
				Entries []json.RawMessage `json:"entries"`
			}
			err = json.NewDecoder(resp.Body).Decode(&out)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK && err == nil {
				return len(out.Entries)
			}
			if resp.StatusCode != http.StatusNotFound || time.Now().After(deadline) {
				t.Fatalf("trail: %d %v", resp.StatusCode, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// when they are imported,
	code, out, errOut := runCmd(t, "import", "--url", "http://"+httpAddr, "--token", feed, "--from", msgs)
	if code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	// then each was delivered, in order, and the ledger's answer is reported, message by
	// message, the files that are not messages skipped with a warning,
	for _, want := range []string{"imported 4 messages: 2 applied, 0 already applied, 1 ignored, 1 dead-lettered",
		"1-intake.json: applied (A4092EA)", "3-more.jsonl #1: ignored: ", "3-more.jsonl #2: dead-lettered (A4092EA): The message could not be read: "} {
		if !strings.Contains(out, want) {
			t.Fatalf("import said %q; want %q\n%s", out, want, errOut)
		}
	}
	for _, want := range []string{"skipping " + filepath.Join(msgs, "hmpps-domain-event.schema.json"), "skipping " + filepath.Join(msgs, "4-counts.json")} {
		if !strings.Contains(errOut, want) {
			t.Fatalf("no warning %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(errOut, "import 100.0%") {
		t.Fatalf("no progress:\n%s", errOut)
	}
	recorded := trail()
	if recorded < 2 {
		t.Fatalf("the person's trail has %d events after a reception and a release", recorded)
	}

	// and importing the same messages again records nothing more, and says so.
	if code, out, errOut = runCmd(t, "import", "--url", "http://"+httpAddr, "--token", feed, "--from", msgs); code != 0 {
		t.Fatalf("second import: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"imported 4 messages: 0 applied, 2 already applied, 1 ignored, 1 dead-lettered",
		"1-intake.json: already applied (A4092EA)", "(already waiting in the dead-letter queue; 2 attempts)"} {
		if !strings.Contains(out, want) {
			t.Fatalf("second import said %q; want %q", out, want)
		}
	}
	if got := trail(); got != recorded {
		t.Fatalf("after importing again the trail has %d events; it had %d", got, recorded)
	}

	// A directory with a file that cannot be read sends nothing at all,
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "1.json"), []byte(`{"eventType":"prison-offender-events.prisoner.released","occurredAt":"2025-01-02T10:00:00Z","additionalInformation":{"nomsNumber":"B1234BB","prisonId":"SWI","reason":"RELEASED"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "2.json"), []byte(`{"eventType":`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a file cut short", []string{"--from", bad}, "2.json: message 1"},
		{"no --from", nil, "--from"},
		{"a wrong token", []string{"--from", msgs, "--token", "glt_nope_nope"}, "401"},
		{"a principal that may not ingest", []string{"--from", msgs, "--token", inspector}, "403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"import", "--url", "http://" + httpAddr, "--token", feed}, tt.args...)
			code, out, errOut := runCmd(t, args...)
			if code == 0 || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, want an error with %q\n%s%s", code, tt.want, out, errOut)
			}
		})
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+httpAddr+"/v1/journeys/B1234BB/trail", nil)
	req.Header.Set("Authorization", "Bearer "+inspector)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a message from a file that could not be read was delivered (trail answered %d)", resp.StatusCode)
	}

	// A release that arrives before its reception waits in the dead-letter queue, and is
	// applied by itself once the reception is imported.
	early := t.TempDir()
	write := func(name, body string) string {
		path := filepath.Join(early, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	release := write("release.json", `{"eventType":"prison-offender-events.prisoner.released","occurredAt":"2025-01-02T10:00:00Z","additionalInformation":{"nomsNumber":"C3333CC","prisonId":"SWI","reason":"RELEASED","nomisMovementReasonCode":"NCS"}}`)
	reception := write("reception.json", `{"eventType":"prison-offender-events.prisoner.received","occurredAt":"2025-01-01T10:00:00Z","additionalInformation":{"nomsNumber":"C3333CC","prisonId":"SWI","reason":"ADMISSION","nomisMovementReasonCode":"N"}}`)
	if code, out, errOut := runCmd(t, "import", "--url", "http://"+httpAddr, "--token", feed, "--from", release); code != 0 ||
		!strings.Contains(out, "dead-lettered (C3333CC): The person's record could not take it yet") {
		t.Fatalf("release first: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCmd(t, "import", "--url", "http://"+httpAddr, "--token", feed, "--from", reception); code != 0 {
		t.Fatalf("reception: exit %d\n%s%s", code, out, errOut)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, "http://"+httpAddr+"/v1/dead-letters?noms=C3333CC&state=resolved", nil)
		req.Header.Set("Authorization", "Bearer "+inspector)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Total int `json:"total"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil {
			t.Fatalf("dead letters: %d %v", resp.StatusCode, err)
		}
		if page.Total == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the release was not applied after its reception arrived")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
