package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/internal/demo"
	"github.com/gateledger/gateledger/internal/esdbserver"
	"github.com/gateledger/gateledger/internal/eventdb"
	"github.com/gateledger/gateledger/internal/journeygen"
)

// runCmd runs gateledger in-process and returns its exit code and output.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// startLedgerProcess starts `gateledger serve` in a child process on dir, with the embedded
// store also served without TLS on a loopback port; it returns the process, its log
// scanner, and the HTTP and store addresses.
func startLedgerProcess(t *testing.T, dir string, extra ...string) (stop func(), httpAddr, esdbAddr string) {
	t.Helper()
	args := append([]string{"serve", "--log-format", "text", "--data", dir, "--esdb-insecure", "--esdb-listen", "127.0.0.1:0"}, extra...)
	cmd, sc := startMain(t, []string{"GATELEDGER_HTTP_LISTEN=127.0.0.1:0"}, args...)
	seen := strings.Join(waitFor(t, sc, "gateledger ready"), "\n")
	h := regexp.MustCompile(`http=(\S+)`).FindStringSubmatch(seen)
	e := regexp.MustCompile(`embedded event store ready.* address=(\S+)`).FindStringSubmatch(seen)
	if h == nil || e == nil {
		t.Fatalf("addresses not logged:\n%s", seen)
	}
	go func() { // keep the pipe drained
		for sc.Scan() {
		}
	}()
	stopped := false
	return func() {
		if stopped {
			return
		}
		stopped = true
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("ledger exit: %v", err)
		}
	}, h[1], e[1]
}

func insecureClient(t *testing.T, addr string) eventstore.Store {
	t.Helper()
	conf, err := esdb.ParseConnectionString("esdb://" + addr + "?tls=false")
	if err != nil {
		t.Fatal(err)
	}
	conf.Logger = esdbserver.ClientLogging(quietLog())
	c, err := esdb.NewClient(conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func streamIDs(ctx context.Context, t *testing.T, c eventstore.Store, stream string) []uuid.UUID {
	t.Helper()
	rs, err := c.ReadStream(ctx, stream, esdb.ReadStreamOptions{From: esdb.Start{}}, ^uint64(0))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var ids []uuid.UUID
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return ids
		}
		var esErr *esdb.Error
		if errors.As(err, &esErr) && esErr.Code() == esdb.ErrorCodeResourceNotFound {
			return ids
		}
		if err != nil {
			t.Fatalf("read %s: %v", stream, err)
		}
		ids = append(ids, ev.OriginalEvent().EventID)
	}
}

func adminToken(t *testing.T, dir string) string {
	t.Helper()
	code, out, errOut := runCmd(t, "token", "create", "--data", dir, "--role", "admin", "--name", "ops")
	if code != 0 {
		t.Fatalf("token create: %d %s", code, errOut)
	}
	return strings.TrimSpace(out)
}

// TestBackupOfARunningLedgerRestores: a ledger under concurrent appends is backed up
// through its API; the restored store verifies and holds every journey whose appends
// were acknowledged before the backup began, event for event. Restore refuses a store
// that is running, a store that holds events (unless forced), and a corrupted copy.
func TestBackupOfARunningLedgerRestores(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a ledger process")
	}
	dir := filepath.Join(t.TempDir(), "data")
	tok := adminToken(t, dir)
	stop, httpAddr, esdbAddr := startLedgerProcess(t, dir)
	defer stop()
	client := insecureClient(t, esdbAddr)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	g := journeygen.New(11, time.Now(), 365*24*time.Hour, aggregates.DefaultPolicy(nil))
	var (
		mu    sync.Mutex
		acked []int // journeys whose every append was acknowledged
		crn   string
	)
	writeCtx, stopWriting := context.WithCancel(ctx)
	var wg sync.WaitGroup
	const writers = 4
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; writeCtx.Err() == nil && i < 4000; i += writers {
				j := g.Journey(i)
				if err := (&journeygen.Writer{Client: client, Concurrency: 1, StepsPerAppend: 3}).Write(writeCtx, []journeygen.Journey{j}); err != nil {
					if writeCtx.Err() == nil {
						t.Errorf("append: %v", err)
					}
					return
				}
				mu.Lock()
				acked = append(acked, i)
				for _, s := range j.Steps {
					if c, ok := s.Command.(aggregates.LinkCRN); ok && crn == "" {
						crn = c.CRN
					}
				}
				mu.Unlock()
			}
		}()
	}
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 40 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("no appends")
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	before := append([]int(nil), acked...)
	mu.Unlock()

	backupFile := filepath.Join(t.TempDir(), "copy.db")
	code, out, errOut := runCmd(t, "backup", "--url", "http://"+httpAddr, "--token", tok, "--out", backupFile, "--log-level", "warn")
	if code != 0 || !strings.Contains(out, "backup written to") {
		t.Fatalf("backup: exit %d\n%s%s", code, out, errOut)
	}
	// The appends were still going on during the copy.
	mu.Lock()
	during := len(acked)
	mu.Unlock()
	time.Sleep(200 * time.Millisecond)
	stopWriting()
	wg.Wait()
	t.Logf("%d journeys acknowledged before the backup, %d by its end, %d in all", len(before), during, len(acked))

	if code, _, errOut := runCmd(t, "restore", "--from", backupFile, "--data", dir, "--force", "--log-level", "warn"); code != 1 || !strings.Contains(errOut, "in use") {
		t.Fatalf("restore over a running ledger: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "backup", "--data", dir, "--out", filepath.Join(t.TempDir(), "x.db"), "--log-level", "warn"); code != 1 || !strings.Contains(errOut, "in use") {
		t.Fatalf("backup --data of a running ledger: exit %d\n%s", code, errOut)
	}
	stop()

	restored := filepath.Join(t.TempDir(), "restored")
	code, out, errOut = runCmd(t, "restore", "--from", backupFile, "--data", restored, "--log-level", "warn")
	if code != 0 || !strings.Contains(out, "restored") {
		t.Fatalf("restore: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCmd(t, "verify", "--data", restored, "--log-level", "warn"); code != 0 || !strings.Contains(out, "OK:") {
		t.Fatalf("verify of the restored store: exit %d\n%s%s", code, out, errOut)
	}

	// Every journey acknowledged before the backup began is there, event for event,
	// as in the original store.
	src, err := eventstore.Open(ctx, eventstore.Config{DataDir: dir, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	dst, err := eventstore.Open(ctx, eventstore.Config{DataDir: restored, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range before {
		stream := "journey-" + g.Journey(i).NOMS
		want, got := streamIDs(ctx, t, src.Client, stream), streamIDs(ctx, t, dst.Client, stream)
		if len(want) == 0 || !slicesEqual(want, got) {
			t.Fatalf("%s: restored %d events, the original has %d", stream, len(got), len(want))
		}
	}
	_ = src.Close(ctx)
	_ = dst.Close(ctx)

	// An empty store (a ledger started once) is replaced without --force.
	fresh := filepath.Join(t.TempDir(), "fresh")
	db, err := eventdb.Open(fresh, eventdb.Options{Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	if code, out, errOut := runCmd(t, "restore", "--from", backupFile, "--data", fresh, "--log-level", "warn"); code != 0 || strings.Contains(out, "kept as") {
		t.Fatalf("restore over an empty store: exit %d\n%s%s", code, out, errOut)
	}

	// A store that holds events is kept unless --force.
	if code, _, errOut := runCmd(t, "restore", "--from", backupFile, "--data", restored, "--log-level", "warn"); code != 1 || !strings.Contains(errOut, "--force") {
		t.Fatalf("restore over a store: exit %d\n%s", code, errOut)
	}
	if code, out, errOut := runCmd(t, "restore", "--from", backupFile, "--data", restored, "--force", "--log-level", "warn"); code != 0 || !strings.Contains(out, "kept as") {
		t.Fatalf("restore --force: exit %d\n%s%s", code, out, errOut)
	}

	// A copy with one changed byte is refused, and nothing is put in place.
	b, err := os.ReadFile(backupFile)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte(`"`+crn+`"`))
	if crn == "" || i < 0 {
		t.Fatalf("no CRN %q to corrupt in the backup", crn)
	}
	b[i+2] ^= 0x01
	bad := filepath.Join(t.TempDir(), "bad.db")
	if err := os.WriteFile(bad, b, 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	if code, _, errOut := runCmd(t, "restore", "--from", bad, "--data", empty, "--log-level", "warn"); code != 1 || !strings.Contains(errOut, "does not verify") {
		t.Fatalf("restore of a corrupted copy: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(empty, eventdb.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused restore left a store behind: %v", err)
	}
}

// TestBackupOfAStoppedLedger: --data copies a stopped ledger's store, and the copy is a
// sound store holding the same events.
func TestBackupOfAStoppedLedger(t *testing.T) {
	dir := t.TempDir()
	adminToken(t, dir) // something to copy
	out := filepath.Join(t.TempDir(), "b.db")
	code, stdout, errOut := runCmd(t, "backup", "--data", dir, "--out", out, "--log-level", "warn")
	if code != 0 || !regexp.MustCompile(`[1-9]\d* events`).MatchString(stdout) {
		t.Fatalf("backup: exit %d\n%s%s", code, stdout, errOut)
	}
	info, err := eventdb.Inspect(context.Background(), out)
	if err != nil || info.Records == 0 {
		t.Fatalf("the copy: %+v %v", info, err)
	}
	if code, _, errOut := runCmd(t, "backup", "--data", dir); code != 2 || !strings.Contains(errOut, "--out") {
		t.Fatalf("backup without --out: exit %d\n%s", code, errOut)
	}
}

func slicesEqual(a, b []uuid.UUID) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestBackupURLReadsDemoSignIn: backup --url without --token reads the demo
// admin sign-in as import and simulate do, and when it cannot, its error
// names only flags backup has.
func TestBackupURLReadsDemoSignIn(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(t.TempDir(), "b.db")
	code, _, errOut := runCmd(t, "backup", "--url", "http://127.0.0.1:1", "--data", dir, "--out", out)
	if code == 0 || !strings.Contains(errOut, "--token") || strings.Contains(errOut, "--admin-token") {
		t.Errorf("no sign-ins: exit %d\n%s", code, errOut)
	}
	signIns, _ := json.Marshal([]demo.SignIn{{Role: "admin", Token: "glt_000000000000_x"}})
	if err := os.WriteFile(filepath.Join(dir, "demo-sign-ins.json"), signIns, 0o600); err != nil {
		t.Fatal(err)
	}
	// Nothing listens there: the error is the connection's, so the token was found.
	code, _, errOut = runCmd(t, "backup", "--url", "http://127.0.0.1:1", "--data", dir, "--out", out)
	if code == 0 || strings.Contains(errOut, "sign-in") || !strings.Contains(errOut, "backup") {
		t.Errorf("with the demo sign-ins: exit %d\n%s", code, errOut)
	}
}
