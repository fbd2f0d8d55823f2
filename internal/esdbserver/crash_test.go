package esdbserver_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/gateledger/gateledger/internal/esdbserver"
	"github.com/gateledger/gateledger/internal/eventdb"
)

const crashDirEnv = "GATELEDGER_CRASH_CHILD_DIR"

// crashPayload derives an event's data from its id, so the parent can check every byte
// of an acknowledged event without the child telling it the data.
func crashPayload(id uuid.UUID, size int) []byte {
	sum := sha256.Sum256(id[:])
	return bytes.Repeat(sum[:], size/len(sum)+1)[:size]
}

// TestCrashChild is the child process of TestCrashRecovery: it appends from many
// goroutines and prints a line for every acknowledged append until it is killed.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("runs only as the child of TestCrashRecovery")
	}
	node, err := esdbserver.StartNode(esdbserver.NodeConfig{DataDir: dir, Logger: quietLogger()})
	if err != nil {
		fmt.Printf("ERR %v\n", err)
		os.Exit(1)
	}
	client, err := node.Client()
	if err != nil {
		fmt.Printf("ERR %v\n", err)
		os.Exit(1)
	}
	var out sync.Mutex
	emit := func(line string) {
		out.Lock()
		defer out.Unlock()
		_, _ = os.Stdout.WriteString(line + "\n")
	}
	emit("READY")
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			stream := fmt.Sprintf("crash-%d-%s", w, uuid.NewString()[:8])
			for i := 0; ; i++ {
				n := 1 + i%5 // batches of 1..5 events
				evs := make([]esdb.EventData, n)
				for j := range evs {
					id := uuid.New()
					evs[j] = esdb.EventData{EventID: id, EventType: "CrashTest", ContentType: esdb.ContentTypeBinary, Data: crashPayload(id, 64+(i*37+j*11)%700)}
				}
				res, err := client.AppendToStream(context.Background(), stream, esdb.AppendToStreamOptions{}, evs...)
				if err != nil {
					emit("ERR " + err.Error())
					return
				}
				first := res.NextExpectedVersion - uint64(n) + 1
				for j, ev := range evs {
					emit(fmt.Sprintf("ACK %s %d %s %d", stream, first+uint64(j), ev.EventID, len(ev.Data)))
				}
			}
		}(w)
	}
	wg.Wait()
	os.Exit(0)
}

type ackedEvent struct {
	stream   string
	revision uint64
	id       uuid.UUID
	size     int
}

// TestCrashRecovery kills a writing child process with SIGKILL at random moments, then
// checks after each restart that every acknowledged event is there, byte for byte, that
// revisions are dense and $all positions strictly increase, and that the store opens
// without any repair.
func TestCrashRecovery(t *testing.T) {
	kills := 50
	if testing.Short() {
		kills = 5
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var acked []ackedEvent
	for round := 0; round < kills; round++ {
		acked = append(acked, runAndKill(t, dir, time.Duration(20+rng.IntN(250))*time.Millisecond)...)
		verifyAcked(t, dir, acked, round)
		if t.Failed() {
			return
		}
	}
	t.Logf("%d kills, %d acknowledged events verified", kills, len(acked))
}

func runAndKill(t *testing.T, dir string, after time.Duration) []ackedEvent {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v=false")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1024)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var acked []ackedEvent
	var kill <-chan time.Time
	startDeadline := time.After(60 * time.Second)
	for line := range lines {
		switch {
		case line == "READY":
			kill = time.After(after)
		case strings.HasPrefix(line, "ACK "):
			f := strings.Fields(line)
			rev, _ := strconv.ParseUint(f[2], 10, 64)
			size, _ := strconv.Atoi(f[4])
			acked = append(acked, ackedEvent{stream: f[1], revision: rev, id: uuid.MustParse(f[3]), size: size})
		case strings.HasPrefix(line, "ERR "):
			t.Errorf("child: %s", line)
		}
		select {
		case <-kill:
			_ = cmd.Process.Signal(syscall.SIGKILL)
			kill = nil
		case <-startDeadline:
			if kill == nil && len(acked) == 0 {
				_ = cmd.Process.Kill()
				t.Fatal("child did not start within 60 s")
			}
		default:
		}
	}
	_ = cmd.Wait()
	return acked
}

func verifyAcked(t *testing.T, dir string, acked []ackedEvent, round int) {
	t.Helper()
	db, err := eventdb.Open(dir, eventdb.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatalf("round %d: store does not open after SIGKILL: %v", round, err)
	}
	defer db.Close()
	byStream := map[string][]ackedEvent{}
	for _, a := range acked {
		byStream[a.stream] = append(byStream[a.stream], a)
	}
	for stream, evs := range byStream {
		page, err := db.ReadStream(eventdb.StreamRead{Stream: stream, Max: 1 << 20})
		if err != nil {
			t.Fatalf("round %d: read %s: %v", round, stream, err)
		}
		for i, r := range page.Records {
			if r.Revision != uint64(i) {
				t.Fatalf("round %d: %s revision %d at index %d: revisions not dense", round, stream, r.Revision, i)
			}
		}
		for _, a := range evs {
			if a.revision >= uint64(len(page.Records)) {
				t.Fatalf("round %d: acknowledged event %s/%d lost (stream has %d)", round, stream, a.revision, len(page.Records))
			}
			r := page.Records[a.revision]
			if r.ID != a.id || !bytes.Equal(r.Data, crashPayload(a.id, a.size)) {
				t.Fatalf("round %d: event %s/%d differs from what was acknowledged", round, stream, a.revision)
			}
		}
	}
	var last uint64
	from := uint64(0)
	for {
		page, err := db.ReadAll(eventdb.AllRead{From: from, Max: 4096})
		if err != nil {
			t.Fatalf("round %d: read $all: %v", round, err)
		}
		for _, r := range page.Records {
			if r.Position <= last {
				t.Fatalf("round %d: $all position %d after %d", round, r.Position, last)
			}
			last = r.Position
		}
		if page.End {
			break
		}
		from = page.Next
	}
}
