package live

import (
	"bufio"
	"net"
	"net/http"
	"sync"
)

// maxBatch bounds the messages a writer hands to the socket in one write.
const maxBatch = 64

// batchConn is the connection under gorilla's: it lets the writer hand the several
// frames queued for a client to the socket in one write (one system call instead of one
// per frame, for this side and the client's). Between hold and release, writes are
// gathered instead of sent. gorilla still frames and serialises every write, including
// the control frames it answers from the reader's goroutine, so frames never interleave;
// a control frame written while held goes out with the batch.
type batchConn struct {
	net.Conn
	mu      sync.Mutex
	holding bool
	held    []byte
}

// Write implements net.Conn.
func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.holding {
		b.held = append(b.held, p...)
		return len(p), nil
	}
	return b.Conn.Write(p)
}

// hold gathers writes until release.
func (b *batchConn) hold() {
	b.mu.Lock()
	b.holding = true
	b.mu.Unlock()
}

// release writes what was gathered, within the deadline gorilla set for the last of it,
// and lets writes through again. The gathered bytes are not kept: an idle connection
// holds no buffer.
func (b *batchConn) release() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.holding = false
	if len(b.held) == 0 {
		return nil
	}
	_, err := b.Conn.Write(b.held)
	b.held = nil
	return err
}

// batchHijacker hands gorilla's upgrader a batchConn in place of the hijacked connection.
type batchHijacker struct {
	http.ResponseWriter
	conn *batchConn
}

// Hijack implements http.Hijacker.
func (h *batchHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = &batchConn{Conn: c}
	return h.conn, brw, nil
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (h *batchHijacker) Unwrap() http.ResponseWriter { return h.ResponseWriter }
