package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gateledger/gateledger/auth"
)

// CloseTimeout (4408): the client answered no ping and sent nothing within
// the read deadline, or a write to it did not finish within WriteWait.
const CloseTimeout = 4408

// outbound is one item of a connection's send queue.
type outbound struct {
	// data is a text message; nil for a bare close.
	data []byte
	// pm, when set, is data prepared once for every connection it goes to
	// (the hub's frames): the writer sends it with WritePreparedMessage.
	pm *websocket.PreparedMessage
	// pos is the position data carries (event, caught-up, checkpoint), so
	// that the close reason can say what the client last received.
	pos    uint64
	hasPos bool
	// closeCode, when set, closes the connection after data is written.
	closeCode int
	closeWord string
}

// conn is one WebSocket connection. Goroutines:
//
//   - the handler's own goroutine reads client messages (readLoop) and,
//     when they end, tears the connection down (serve);
//   - writeLoop is the only goroutine that writes data frames: every
//     message goes through send, so frames never interleave and a slow
//     socket blocks only this connection's writer;
//   - runFeed, started by the subscribe message, sends the history from its
//     catch-up subscription, then moves what the shared hub hands it (see
//     hub.go) to send; once live, a queue that stays full drops the client.
//     The hub itself only ever tries send without waiting (trySend).
//
// gorilla's own control replies (pong, the close echo, the 1009 close on
// an oversized message) are written with WriteControl, which it documents
// as safe beside the writer.
type conn struct {
	h  *Handler
	ws *websocket.Conn
	// out is the socket under ws, through which the writer batches frames.
	out *batchConn
	req *http.Request // the upgrade request, kept to check the credential again
	p   auth.Principal
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc

	send chan outbound
	// quit is closed to close the connection at once, skipping the queue
	// (slow client, shutdown, broken socket); quitCode/quitWord say how.
	quit     chan struct{}
	quitOnce sync.Once
	quitCode int
	quitWord string

	// written is the position of the last message written to the socket.
	written atomic.Uint64
	// live is set once the feed has sent caught-up.
	live atomic.Bool
	// fullSince is when enqueue first found the queue full without finding
	// room since (zero: it had room last time). The reader may enqueue an
	// error beside the feed, hence the lock.
	fullMu    sync.Mutex
	fullSince time.Time

	readerDone chan struct{}
	writerDone chan struct{}
	// feedDone is set by the reader when it starts the feed; only the
	// reader's goroutine touches it.
	feedDone chan struct{}
}

func newConn(h *Handler, ws *websocket.Conn, out *batchConn, r *http.Request, p auth.Principal) *conn {
	// The connection outlives the request's context in principle (the
	// server may cancel it on its own schedule); its lifetime is its own.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	return &conn{h: h, ws: ws, out: out, req: r, p: p, ctx: ctx, cancel: cancel,
		log:  h.log.With("principal", p.String(), "remote", r.RemoteAddr),
		send: make(chan outbound, h.cfg.SendBuffer), quit: make(chan struct{}),
		readerDone: make(chan struct{}), writerDone: make(chan struct{})}
}

// serve runs the connection until it ends and everything it started has
// stopped.
func (c *conn) serve() {
	c.log.InfoContext(c.ctx, "live: connected")
	go c.writeLoop()
	c.readLoop()
	close(c.readerDone)
	// The reader has stopped: nothing more can arrive, so the writer must
	// not wait for anything either.
	c.stop(websocket.CloseNormalClosure, "closed")
	<-c.writerDone
	c.cancel()
	if c.feedDone != nil {
		<-c.feedDone
	}
	_ = c.ws.Close()
	c.log.InfoContext(c.ctx, "live: disconnected", "position", c.written.Load())
}

// stop closes the connection out of band: the writer stops taking queued
// messages and sends a close frame with code and word. The first call wins.
func (c *conn) stop(code int, word string) {
	c.quitOnce.Do(func() {
		c.quitCode, c.quitWord = code, word
		close(c.quit)
		c.cancel()
	})
}

// drop stops a connection the server gives up on, logging and counting why.
func (c *conn) drop(code int, reason string, attrs ...any) {
	if c.ctx.Err() != nil {
		return // already closing: the first reason is the one counted
	}
	c.log.WarnContext(c.ctx, "live: connection dropped", append([]any{"reason", reason, "position", c.written.Load()}, attrs...)...)
	c.h.metrics.Dropped(reason)
	c.stop(code, reason)
}

// enqueue puts m on the send queue and reports whether it did.
//
// While the feed reads history (before caught-up) a full queue just makes
// it wait: the history stays in the store and is read at the client's pace,
// so a client catching up from "start" is never dropped for being slower
// than the disk. A client that stops reading altogether is ended by the
// writer's WriteWait.
//
// Once live, events arrive at the rate they are recorded. A queue found
// full at every enqueue for SlowClientWait means the client reads slower
// than events arrive and would only fall further behind: it is dropped with
// CloseSlowClient and resumes from the position in the close reason. Only
// this connection's feed waits; other connections have their own queues.
func (c *conn) enqueue(m outbound) bool {
	if c.ctx.Err() != nil {
		return false
	}
	select {
	case c.send <- m:
		c.fullMu.Lock()
		c.fullSince = time.Time{}
		c.fullMu.Unlock()
		return true
	default:
	}
	var timeout <-chan time.Time
	var since time.Time
	if c.live.Load() {
		c.fullMu.Lock()
		if c.fullSince.IsZero() {
			c.fullSince = time.Now()
		}
		since = c.fullSince
		c.fullMu.Unlock()
		t := time.NewTimer(time.Until(since.Add(c.h.cfg.SlowClientWait)))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case c.send <- m:
		return true
	case <-c.ctx.Done():
		return false
	case <-timeout:
		c.drop(CloseSlowClient, DropSlowClient, "queued", len(c.send), "full_for", time.Since(since))
		return false
	}
}

// trySend puts m on the send queue if there is room now, for the hub, which
// must never wait for one connection. A closing connection takes anything
// (and drops it).
func (c *conn) trySend(m outbound) bool {
	if c.ctx.Err() != nil {
		return true
	}
	select {
	case c.send <- m:
		c.fullMu.Lock()
		c.fullSince = time.Time{}
		c.fullMu.Unlock()
		return true
	default:
		return false
	}
}

// closeWithError queues an error message and a close after it, so that the
// client reads why before the close.
func (c *conn) closeWithError(code int, errCode, message string) {
	c.enqueue(outbound{data: mustJSON(errorMessage{Type: TypeError, Code: errCode, Message: message}),
		closeCode: code, closeWord: errCode})
}

func (c *conn) writeLoop() {
	defer close(c.writerDone)
	ping := time.NewTicker(c.h.cfg.PingInterval)
	defer ping.Stop()
	for {
		// A pending quit wins over queued messages: a slow client is not
		// given its backlog first.
		select {
		case <-c.quit:
			c.closeFrame(c.quitCode, c.quitWord)
			return
		default:
		}
		select {
		case <-c.quit:
			c.closeFrame(c.quitCode, c.quitWord)
			return
		case m := <-c.send:
			if !c.writeQueued(m) {
				return
			}
		case <-ping.C:
			if !c.write(websocket.PingMessage, nil) {
				return
			}
		}
	}
}

// writeQueued writes m and, when more messages are already queued, those too (up to
// maxBatch) in one write to the socket. It reports false once the connection is
// finished (m or a message after it closed it, or the socket failed).
func (c *conn) writeQueued(m outbound) bool {
	batch := len(c.send) > 0 && m.closeCode == 0
	if batch {
		c.out.hold()
	}
	pos, hasPos := uint64(0), false
	for n := 0; ; n++ {
		if m.data != nil && !c.writeData(m) {
			if batch {
				_ = c.out.release()
			}
			return false
		}
		if m.hasPos {
			pos, hasPos = m.pos, true
		}
		if m.closeCode != 0 || !batch || n+1 == maxBatch || len(c.send) == 0 {
			break
		}
		next := <-c.send // only this goroutine receives: what len saw is there
		if next.closeCode != 0 {
			// The close must not wait in the batch: the client is to read it now.
			if err := c.out.release(); !c.wrote(err) {
				return false
			}
			batch = false
		}
		m = next
	}
	if batch {
		if err := c.out.release(); !c.wrote(err) {
			return false
		}
	}
	if hasPos {
		c.written.Store(pos)
	}
	if m.closeCode != 0 {
		c.quitOnce.Do(func() { c.quitCode, c.quitWord = m.closeCode, m.closeWord; close(c.quit); c.cancel() })
		c.closeFrame(m.closeCode, m.closeWord)
		return false
	}
	return true
}

// write writes one frame within WriteWait. On failure the connection is
// finished: the socket is closed so that the reader stops too.
func (c *conn) write(kind int, data []byte) bool {
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.h.cfg.WriteWait))
	return c.wrote(c.ws.WriteMessage(kind, data))
}

// writeData writes m's text message within WriteWait, prepared if it is.
func (c *conn) writeData(m outbound) bool {
	if m.pm == nil {
		return c.write(websocket.TextMessage, m.data)
	}
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.h.cfg.WriteWait))
	return c.wrote(c.ws.WritePreparedMessage(m.pm))
}

// wrote reports whether a write succeeded; on failure it finishes the
// connection.
func (c *conn) wrote(err error) bool {
	if err == nil {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.drop(CloseTimeout, DropTimeout, "err", err)
	} else if c.ctx.Err() == nil {
		c.log.InfoContext(c.ctx, "live: write failed", "err", err)
	}
	c.stop(CloseTimeout, DropTimeout)
	_ = c.ws.Close()
	return false
}

// closeFrame sends a close frame with the last position written, waits a
// little for the client's answering close (which ends the reader), then
// closes the socket in case it never comes.
func (c *conn) closeFrame(code int, word string) {
	reason := fmt.Sprintf("%s position=%d", word, c.written.Load())
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(c.h.cfg.WriteWait))
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case <-c.readerDone:
	case <-t.C:
	}
	_ = c.ws.Close()
}

// readLoop reads client messages until the connection ends. Only the first
// subscribe is acted on; after a refused message the rest are read and
// ignored until the close handshake finishes.
func (c *conn) readLoop() {
	pongWait := 2 * c.h.cfg.PingInterval
	c.ws.SetReadLimit(c.h.cfg.MaxMessageSize)
	_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(pongWait)) })
	refused := false
	for {
		kind, data, err := c.ws.ReadMessage()
		if err != nil {
			c.readEnded(err)
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
		if refused || c.ctx.Err() != nil {
			continue
		}
		if kind != websocket.TextMessage {
			c.refuse(&ProtocolError{Code: CodeBadRequest, Message: "messages are JSON text frames"})
			refused = true
			continue
		}
		sub, err := DecodeClientMessage(data)
		if err != nil {
			c.refuse(err)
			refused = true
			continue
		}
		if c.feedDone != nil {
			c.refuse(&ProtocolError{Code: CodeAlreadySubscribed, Message: "one subscription per connection"})
			refused = true
			continue
		}
		c.feedDone = make(chan struct{})
		go c.runFeed(sub)
	}
}

func (c *conn) refuse(err error) {
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		pe = &ProtocolError{Code: CodeBadRequest, Message: err.Error()}
	}
	c.log.WarnContext(c.ctx, "live: client message refused", "code", pe.Code, "err", pe.Message)
	c.h.metrics.Dropped(DropBadRequest)
	c.closeWithError(CloseBadRequest, pe.Code, pe.Message)
}

// readEnded classifies why reading stopped.
func (c *conn) readEnded(err error) {
	var ne net.Error
	switch {
	case c.ctx.Err() != nil:
		// The server is closing this connection; the reader ends with it.
	case errors.Is(err, websocket.ErrReadLimit):
		// gorilla has already sent close 1009.
		c.drop(CloseMessageTooBig, DropMessageTooBig, "limit", c.h.cfg.MaxMessageSize)
	case errors.As(err, &ne) && ne.Timeout():
		c.drop(CloseTimeout, DropTimeout, "err", err)
	case websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived):
		c.log.DebugContext(c.ctx, "live: client closed", "err", err)
	default:
		c.log.InfoContext(c.ctx, "live: read ended", "err", err)
	}
}
