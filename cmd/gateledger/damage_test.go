package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/internal/boltfile"
	"github.com/gateledger/gateledger/internal/eventdb"
	"github.com/gateledger/gateledger/internal/journeygen"
)

// child is how a gateledger process ended.
type child struct {
	code    int
	out     string // stdout and stderr
	started bool   // serve got as far as "gateledger ready" (and was then stopped)
}

// runChild runs gateledger (this test binary's main) in a child process and waits for it.
// A serve that gets ready is stopped with SIGTERM. A child killed by a signal, or one
// that panicked or hit a fatal runtime error, fails the test: damage must be reported,
// never a crash.
func runChild(t *testing.T, env []string, args ...string) child {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), append(env, "GATELEDGER_RUN_MAIN=1", "GATELEDGER_MAIN_ARGS="+strings.Join(args, " "))...)
	var mu sync.Mutex
	var out bytes.Buffer
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return out.Write(p) })
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	started := false
	deadline := time.After(90 * time.Second)
wait:
	for {
		select {
		case <-done:
			break wait
		case <-time.After(100 * time.Millisecond):
			mu.Lock()
			ready := strings.Contains(out.String(), "gateledger ready")
			mu.Unlock()
			if ready && !started {
				started = true
				_ = cmd.Process.Signal(syscall.SIGTERM)
			}
		case <-deadline:
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("gateledger %s did not finish within 90 s:\n%s", strings.Join(args, " "), out.String())
		}
	}
	mu.Lock()
	text := out.String()
	mu.Unlock()
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		t.Fatalf("gateledger %s died on signal %v:\n%s", args[0], ws.Signal(), text)
	}
	for _, crash := range []string{"panic:", "fatal error:", "SIGBUS", "SIGSEGV", "goroutine "} {
		if strings.Contains(text, crash) {
			t.Fatalf("gateledger %s crashed (%q in its output, exit %d):\n%s", args[0], crash, ws.ExitStatus(), text)
		}
	}
	return child{code: ws.ExitStatus(), out: text, started: started}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// journeyStore writes a store of generated journeys into dir and returns the
// CRN of one of them, a string that appears in one stored event.
func journeyStore(t *testing.T, dir string, people int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	store, err := eventstore.Open(ctx, eventstore.Config{DataDir: dir, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	g := journeygen.New(7, time.Now(), 365*24*time.Hour, aggregates.DefaultPolicy(nil))
	var js []journeygen.Journey
	crn := ""
	for i := range people {
		j := g.Journey(i)
		js = append(js, j)
		for _, s := range j.Steps {
			if c, ok := s.Command.(aggregates.LinkCRN); ok && crn == "" {
				crn = c.CRN
			}
		}
	}
	if err := (&journeygen.Writer{Client: store.Client}).Write(ctx, js); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if crn == "" {
		t.Fatal("no generated CRN")
	}
	return crn
}

// TestDamagedStoresAreReportedNeverACrash damages a store file in every way a disk or
// an operator can, and runs the real binary on each copy: verify, serve, backup and
// restore (of the damaged file as a backup) must each end normally with exit status
// 1 and a message that names the damage, never on a signal or a panic.
func TestDamagedStoresAreReportedNeverACrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts dozens of processes")
	}
	src := t.TempDir()
	crn := journeyStore(t, src, 40)
	file, err := os.ReadFile(filepath.Join(src, eventdb.FileName))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := boltfile.Check(context.Background(), filepath.Join(src, eventdb.FileName))
	if err != nil {
		t.Fatal(err)
	}
	ps, used := sum.PageSize, int(sum.HighWater)*sum.PageSize
	zeroPage := func(d []byte, p int) { clear(d[p*ps : (p+1)*ps]) }
	crnPage := bytes.Index(file, []byte(`"`+crn+`"`)) / ps

	damages := []struct {
		name   string
		damage func(d []byte) []byte
		want   string
	}{
		{"one zeroed page", func(d []byte) []byte { zeroPage(d, crnPage); return d }, "reads as zeroes"},
		{"cut to half", func(d []byte) []byte { return d[:used/2] }, "cut short"},
		{"cut by one page", func(d []byte) []byte { return d[:used-ps] }, "cut short"},
		{"cut mid-page", func(d []byte) []byte { return d[:used-ps/2] }, "cut short"},
		{"cut to nothing", func(d []byte) []byte { return d[:0] }, "empty"},
		{"damage near the end", func(d []byte) []byte {
			r := rand.New(rand.NewPCG(5, 6))
			for i := range ps {
				d[int(sum.LastPage)*ps+i] = byte(r.Uint32())
			}
			return d
		}, "damaged"},
		{"both meta pages", func(d []byte) []byte { zeroPage(d, 0); zeroPage(d, 1); return d }, "both meta pages"},
		{"one meta page", func(d []byte) []byte { d[ps+16+40] ^= 0x10; return d }, "meta page 1"},
	}
	// Random flips: 16 bytes, and 1, at places drawn from a fixed seed over the pages in use.
	for seed := range uint64(4) {
		n := 16
		if seed == 3 {
			n = 1
		}
		damages = append(damages, struct {
			name   string
			damage func(d []byte) []byte
			want   string
		}{name: "random flips " + string(rune('a'+seed)), damage: func(d []byte) []byte {
			r := rand.New(rand.NewPCG(seed, 99))
			for range n {
				d[r.IntN(used)] ^= byte(1 + r.IntN(255))
			}
			return d
		}})
	}

	for _, tc := range damages {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
				t.Fatal(err)
			}
			damaged := tc.damage(bytes.Clone(file))
			store := filepath.Join(dir, eventdb.FileName)
			if err := os.WriteFile(store, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			_ = os.Remove(filepath.Join(dir, "projections.db"))

			verify := runChild(t, nil, "verify", "--data", dir, "--log-level", "error")
			structural := strings.Contains(verify.out, "is damaged")
			if tc.want == "" && verify.code == 0 {
				// Random flips may all land where nothing reads them (a free page, the
				// slack at a page's end, a record's server timestamp): harmless, and
				// then the ledger must serve as usual.
				if serve := runChild(t, []string{"GATELEDGER_HTTP_LISTEN=127.0.0.1:0"}, "serve", "--data", dir, "--log-format", "text"); !serve.started || serve.code != 0 {
					t.Fatalf("verify found nothing, but serve: started %v, exit %d:\n%s", serve.started, serve.code, serve.out)
				}
				t.Logf("the flips were harmless:\n%s", verify.out)
				return
			}
			switch {
			case verify.code != 1:
				t.Fatalf("verify: exit %d, want 1:\n%s", verify.code, verify.out)
			case tc.want != "" && !strings.Contains(verify.out, tc.want):
				t.Fatalf("verify does not say %q:\n%s", tc.want, verify.out)
			case !structural && !strings.Contains(verify.out, "BREAK"):
				t.Fatalf("verify reports neither damage nor a broken chain:\n%s", verify.out)
			}

			serve := runChild(t, []string{"GATELEDGER_HTTP_LISTEN=127.0.0.1:0"}, "serve", "--data", dir, "--log-format", "text")
			switch {
			case structural && (serve.started || serve.code != 1):
				t.Fatalf("serve on a damaged store: started %v, exit %d:\n%s", serve.started, serve.code, serve.out)
			case structural && !(strings.Contains(serve.out, "is damaged") && strings.Contains(serve.out, "gateledger restore --from")):
				t.Fatalf("serve does not name the damage and the restore:\n%s", serve.out)
			case !structural:
				// The flips hit only events' contents: their hash chains are what
				// shows it (verify said BREAK above), not the file's structure.
				t.Logf("damage inside events only; verify reported it:\n%s", verify.out)
			}

			if structural {
				out := filepath.Join(t.TempDir(), "copy.db")
				if b := runChild(t, nil, "backup", "--data", dir, "--out", out); b.code != 1 || !strings.Contains(b.out, "is damaged") {
					t.Fatalf("backup of a damaged store: exit %d:\n%s", b.code, b.out)
				}
				if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("a backup of a damaged store was written: %v", err)
				}
			}

			// The damaged file offered as a backup.
			backup := filepath.Join(t.TempDir(), "backup.db")
			if err := os.WriteFile(backup, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			target := t.TempDir()
			restore := runChild(t, nil, "restore", "--from", backup, "--data", target)
			if restore.code != 1 || !(strings.Contains(restore.out, "is damaged") || strings.Contains(restore.out, "does not verify")) {
				t.Fatalf("restore of a damaged backup: exit %d:\n%s", restore.code, restore.out)
			}
			if _, err := os.Stat(filepath.Join(target, eventdb.FileName)); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a damaged backup was restored: %v", err)
			}
		})
	}
}

// TestRestoreReplacesADamagedStore: the way out that serve names works.
func TestRestoreReplacesADamagedStore(t *testing.T) {
	dir := t.TempDir()
	journeyStore(t, dir, 5)
	backup := filepath.Join(t.TempDir(), "backup.db")
	if code, out, errOut := runCmd(t, "backup", "--data", dir, "--out", backup); code != 0 {
		t.Fatalf("backup: exit %d\n%s%s", code, out, errOut)
	}
	store := filepath.Join(dir, eventdb.FileName)
	if err := os.Truncate(store, 3*4096); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCmd(t, "restore", "--from", backup, "--data", dir); code != 1 || !strings.Contains(errOut, "--force") {
		t.Fatalf("restore over a damaged store without --force: exit %d\n%s", code, errOut)
	}
	if code, out, errOut := runCmd(t, "restore", "--from", backup, "--data", dir, "--force"); code != 0 {
		t.Fatalf("restore --force: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCmd(t, "verify", "--data", dir, "--log-level", "warn"); code != 0 || !strings.Contains(out, "OK:") {
		t.Fatalf("verify after restore: exit %d\n%s%s", code, out, errOut)
	}
}

// TestServeStaysNotReadyOnABrokenChain: damage inside an event's bytes leaves the
// store file sound, so serve starts; its start-up history check finds the broken
// chain and /readyz never turns ready, naming the journey.
func TestServeStaysNotReadyOnABrokenChain(t *testing.T) {
	dir := t.TempDir()
	journeyStore(t, dir, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	store, err := eventstore.Open(ctx, eventstore.Config{DataDir: dir, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	noms := journeygen.NOMS(0)
	st, err := eventlog.LoadJourney(ctx, store.Client, noms)
	if err != nil || len(st.Events) == 0 {
		t.Fatalf("load %s: %v", noms, err)
	}
	// An event whose metadata claims a hash its bytes do not have, appended as any
	// client of the store could.
	last := st.Events[len(st.Events)-1]
	forged := bytes.Replace(last.RawMetadata, []byte(`"hash":"`), []byte(`"hash":"00`), 1)
	if _, err := store.Client.AppendToStream(ctx, aggregates.StreamName(noms), esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(uint64(len(st.Events) - 1))},
		esdb.EventData{EventID: uuid.New(), EventType: last.Type, ContentType: esdb.ContentTypeJson, Data: last.Data, Metadata: forged}); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(ctx); err != nil {
		t.Fatal(err)
	}

	stop, httpAddr, _ := startLedgerProcess(t, dir)
	defer stop()
	deadline := time.Now().Add(45 * time.Second)
	for {
		resp, err := http.Get("http://" + httpAddr + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("ready on a store with a broken chain: %s", body)
		}
		if strings.Contains(string(body), "damaged") && strings.Contains(string(body), aggregates.StreamName(noms)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz never said the history is damaged: %s", body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
