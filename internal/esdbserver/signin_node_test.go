package esdbserver_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/internal/esdbserver"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestWrongPasswordsAreLoggedAndDoNotSlowTheValidClient: wrong passwords on
// the store port are refused and logged with the address, while the valid
// client on the same address is served meanwhile.
func TestWrongPasswordsAreLoggedAndDoNotSlowTheValidClient(t *testing.T) {
	var logs lockedBuffer
	node, good := startNodeWith(t, esdbserver.NodeConfig{Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		SignInDelay: esdbserver.SignInDelay{Base: 20 * time.Millisecond, Max: 100 * time.Millisecond}})
	cfg, err := node.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Password = "wrong"
	cfg.Logger = esdbserver.ClientLogging(quietLogger())
	bad, err := esdb.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 8 {
			_, err := bad.AppendToStream(ctxT(t), "guarded", esdb.AppendToStreamOptions{}, events(1, "T")...)
			if err == nil {
				t.Error("a wrong password was accepted")
				return
			}
		}
	}()
	for range 20 {
		mustAppend(t, good, "guarded", esdb.Any{}, events(1, "T")...)
	}
	wg.Wait()
	out := logs.String()
	if !strings.Contains(out, "sign-in refused") || !strings.Contains(out, "address=127.0.0.1") {
		t.Fatalf("no refusal logged with the address:\n%s", out)
	}
	if n := strings.Count(out, "sign-in refused"); n > 2 {
		t.Fatalf("%d lines for 8 refusals within seconds: the log is not rate-limited", n)
	}
}
