package main

import (
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAdminAddress: profiling is served only on --admin-listen, never on the API's
// address, and is off unless asked for.
func TestAdminAddress(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"off by default", nil},
		{"on", []string{"--admin-listen", "127.0.0.1:0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			cmd, sc := startMain(t, []string{"GATELEDGER_HTTP_LISTEN=127.0.0.1:0"}, append([]string{"serve", "--log-format", "text", "--data", dir}, tc.args...)...)
			seen := strings.Join(waitFor(t, sc, "gateledger ready"), "\n")
			api := regexp.MustCompile(`http=(\S+)`).FindStringSubmatch(seen)[1]
			if code, _ := get(t, "http://"+api+"/debug/pprof/"); code != http.StatusNotFound {
				t.Errorf("the API address answers /debug/pprof/ with %d", code)
			}
			m := regexp.MustCompile(`admin address ready.* admin=(\S+)`).FindStringSubmatch(seen)
			if tc.args == nil {
				if m != nil {
					t.Fatalf("an admin address without --admin-listen: %s", m[0])
				}
			} else {
				if m == nil {
					t.Fatalf("no admin address logged:\n%s", seen)
				}
				if code, body := get(t, "http://"+m[1]+"/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
					t.Fatalf("/debug/pprof/ on the admin address: %d", code)
				}
				if code, body := get(t, "http://"+m[1]+"/debug/pprof/goroutine?debug=1"); code != http.StatusOK || !strings.Contains(body, "goroutine profile") {
					t.Fatalf("goroutine profile: %d %.100s", code, body)
				}
				if code, _ := get(t, "http://"+m[1]+"/v1/openapi.json"); code != http.StatusNotFound {
					t.Fatalf("the admin address serves the API: %d", code)
				}
			}
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			waitFor(t, sc, "stopped")
			if err := cmd.Wait(); err != nil {
				t.Fatalf("exit: %v", err)
			}
		})
	}
}
