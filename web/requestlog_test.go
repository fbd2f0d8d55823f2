package web

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a log destination safe for the server's goroutines.
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

// TestRequestLogOffTheMainLog: at info the main log holds no line per
// request (the start banner stays readable); with RequestLog set, the lines
// go there at info.
func TestRequestLogOffTheMainLog(t *testing.T) {
	var mainLog, reqLog lockedBuffer
	w := newWorld(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&mainLog, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	w.do(req{method: "GET", path: "/v1/outcomes", as: "inspector"}).ok(t, http.StatusOK)
	if strings.Contains(mainLog.String(), "http request") {
		t.Errorf("request lines on the main log at info:\n%s", mainLog.String())
	}

	w2 := newWorld(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&mainLog, &slog.HandlerOptions{Level: slog.LevelInfo}))
		c.RequestLog = slog.New(slog.NewTextHandler(&reqLog, nil))
	})
	w2.do(req{method: "GET", path: "/v1/outcomes", as: "inspector"}).ok(t, http.StatusOK)
	if !strings.Contains(reqLog.String(), "http request") || !strings.Contains(reqLog.String(), "/v1/outcomes") {
		t.Errorf("no request line in the request log:\n%s", reqLog.String())
	}
	if strings.Contains(mainLog.String(), "http request") {
		t.Errorf("request lines on the main log:\n%s", mainLog.String())
	}
}
