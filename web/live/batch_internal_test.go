package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// countingConn counts the writes that reach the socket.
type countingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestQueuedMessagesGoOutTogether: messages already queued when the writer wakes reach the
// socket in one write, the client reads each of them whole and in order, and a close
// queued behind them is not held back in the batch.
func TestQueuedMessagesGoOutTogether(t *testing.T) {
	tests := []struct {
		name       string
		queued     int
		wantWrites int64 // writes for the messages, the close frame not counted
	}{
		{name: "one message is written as it is", queued: 1, wantWrites: 1},
		{name: "several queued go out together", queued: 10, wantWrites: 1},
		{name: "a batch is bounded", queued: maxBatch + 3, wantWrites: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counted := make(chan *countingConn, 1)
			done := make(chan bool, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hj := &batchHijacker{ResponseWriter: w}
				ws, err := (&websocket.Upgrader{}).Upgrade(hj, r, nil)
				if err != nil {
					t.Error(err)
					return
				}
				cc := &countingConn{Conn: hj.conn.Conn}
				hj.conn.Conn = cc
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				c := &conn{h: &Handler{cfg: Config{WriteWait: 5 * time.Second}}, ws: ws, out: hj.conn, ctx: ctx, cancel: cancel,
					log: slog.New(slog.NewTextHandler(io.Discard, nil)), send: make(chan outbound, tt.queued+1),
					quit: make(chan struct{}), readerDone: make(chan struct{})}
				close(c.readerDone) // closeFrame need not wait for the client's echo
				// Given the messages already queued, then a close,
				for i := range tt.queued {
					c.send <- outbound{data: fmt.Appendf(nil, `{"n":%d}`, i), pos: uint64(i + 1), hasPos: true}
				}
				c.send <- outbound{closeCode: websocket.CloseNormalClosure, closeWord: "done"}
				// when the writer takes them,
				for c.writeQueued(<-c.send) {
				}
				counted <- cc
				done <- c.written.Load() == uint64(tt.queued)
			}))
			defer srv.Close()
			client, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			// then the client reads each message whole, in order, then the close.
			for i := range tt.queued {
				_, b, err := client.ReadMessage()
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if want := fmt.Sprintf(`{"n":%d}`, i); string(b) != want {
					t.Fatalf("message %d = %s, want %s", i, b, want)
				}
			}
			_, _, err = client.ReadMessage()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure || ce.Text != fmt.Sprintf("done position=%d", tt.queued) {
				t.Fatalf("after the messages: %v", err)
			}
			cc := <-counted
			if !<-done {
				t.Error("the written position is not the last message's")
			}
			// The close frame is one more write.
			if got := cc.writes.Load() - 1; got != tt.wantWrites {
				t.Errorf("%d writes reached the socket for %d messages; want %d", got, tt.queued, tt.wantWrites)
			}
		})
	}
}
