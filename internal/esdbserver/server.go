package esdbserver

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/gateledger/gateledger/internal/eventdb"
)

// Options configure the protocol server.
type Options struct {
	// Users maps user names to passwords accepted by basic authentication. When empty,
	// every call is allowed: only for --esdb-insecure on loopback.
	Users map[string]string
	// TLS, when set, is the transport security of the listener.
	TLS credentials.TransportCredentials
	// AdvertiseHost and AdvertisePort are what Gossip reports as this node's address.
	AdvertiseHost string
	AdvertisePort int
	// FellBehindAfter is how many events a live subscriber may lag before it is told it
	// fell behind and is caught up from the store; 0 means 4096.
	FellBehindAfter int
	// InstanceID identifies this node in gossip; zero means a random one.
	InstanceID uuid.UUID
	Logger     *slog.Logger
	// SignInDelay is how failed basic-authentication sign-ins are slowed
	// (see SignInDelay); the zero value means the defaults.
	SignInDelay SignInDelay
	// KeepHistory names the streams whose history may never be removed or hidden:
	// Delete and Tombstone of them, and metadata that sets $tb, $maxCount or $maxAge
	// on them, are refused (HistoryRefusedError). Nil keeps every stream deletable,
	// as on KurrentDB.
	KeepHistory func(stream string) bool
}

// Server implements the EventStoreDB gRPC services over an eventdb store.
type Server struct {
	api.UnimplementedStreamsServer

	db   *eventdb.DB
	opts Options
	log  *slog.Logger
	// signIns delays and logs failed sign-ins per address.
	signIns *signInGuard
	// stopping is closed by Shutdown to end open subscriptions.
	stopping     chan struct{}
	shutdownOnce sync.Once
}

// Shutdown ends every open subscription with Unavailable, so that clients reconnect
// elsewhere and a graceful stop of the gRPC server does not wait for them forever.
func (s *Server) Shutdown() { s.shutdownOnce.Do(func() { close(s.stopping) }) }

var errShuttingDown = status.Error(codes.Unavailable, "Server is shutting down")

// New returns a server for db.
func New(db *eventdb.DB, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.FellBehindAfter <= 0 {
		opts.FellBehindAfter = 4096
	}
	if opts.InstanceID == uuid.Nil {
		opts.InstanceID = uuid.New()
	}
	return &Server{db: db, opts: opts, log: opts.Logger, signIns: newSignInGuard(opts.SignInDelay, opts.Logger), stopping: make(chan struct{})}
}

// maxMessageSize admits one event of eventdb's largest size plus framing, like the
// client's own 17 MiB limit.
const maxMessageSize = 17 * 1024 * 1024

// GRPCServer returns a gRPC server with the services registered, authentication
// enforced and message limits set.
func (s *Server) GRPCServer() *grpc.Server {
	opts := []grpc.ServerOption{
		grpc.ForceServerCodecV2(newCodec()),
		grpc.MaxRecvMsgSize(maxMessageSize),
		grpc.MaxSendMsgSize(maxMessageSize),
		grpc.UnaryInterceptor(s.unaryAuth),
		grpc.StreamInterceptor(s.streamAuth),
		// The official client pings every 10 s (its KeepAliveInterval default); gRPC's
		// default policy calls that abuse and closes the connection, dropping every
		// subscription on it. Allow pings as often as every 5 s, with or without streams,
		// and ping idle clients ourselves so dead peers are noticed.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 20 * time.Second}),
		grpc.InitialWindowSize(1 << 20),
		grpc.InitialConnWindowSize(4 << 20),
		grpc.WriteBufferSize(256 << 10),
		grpc.ReadBufferSize(256 << 10),
	}
	if s.opts.TLS != nil {
		opts = append(opts, grpc.Creds(s.opts.TLS))
	}
	g := grpc.NewServer(opts...)
	api.RegisterStreamsServer(g, s)
	serverfeatures.RegisterServerFeaturesServer(g, featuresService{s: s})
	gossip.RegisterGossipServer(g, gossipService{s: s})
	return g
}

// anonymousMethods may be called without credentials, as on a real node: a client must
// discover the cluster and its features before it can authenticate anything.
func anonymousMethod(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/event_store.client.server_features.ServerFeatures/") ||
		strings.HasPrefix(fullMethod, "/event_store.client.gossip.Gossip/")
}

func (s *Server) unaryAuth(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := s.authenticate(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (s *Server) streamAuth(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := s.authenticate(ss.Context(), info.FullMethod); err != nil {
		if info.FullMethod == api.Streams_Append_FullMethodName {
			drainRefusedAppend(ss)
		}
		return err
	}
	return handler(srv, ss)
}

// refusedAppendMessages bounds what a refused Append may still send before it is answered.
const refusedAppendMessages = 1024

// drainRefusedAppend reads what a refused Append's client is still sending, up to its
// end of stream or refusedAppendMessages, so that the client reads the refusal as the
// call's status. The official client sends the whole request before it reads the
// answer; a call the server has already ended makes one of its sends fail instead, and
// it then reports a bare EOF where it should say unauthenticated. The read costs no more
// than the open stream already did, and only what gRPC's message size limit allows.
func drainRefusedAppend(ss grpc.ServerStream) {
	for range refusedAppendMessages {
		if err := ss.RecvMsg(new(api.AppendReq)); err != nil {
			return
		}
	}
}

var errUnauthenticated = status.Error(codes.Unauthenticated, "Bad authentication credentials")

func (s *Server) authenticate(ctx context.Context, method string) error {
	if len(s.opts.Users) == 0 || anonymousMethod(method) {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	user := ""
	for _, h := range md.Get("authorization") {
		scheme, cred, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Basic") {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		if err != nil {
			continue
		}
		u, pass, ok := strings.Cut(string(raw), ":")
		want, known := s.opts.Users[u]
		if ok && known && subtle.ConstantTimeCompare([]byte(pass), []byte(want)) == 1 {
			return nil
		}
		if len(u) > 64 {
			u = u[:64] + "…"
		}
		user = u
	}
	s.signIns.failed(ctx, user, method)
	return errUnauthenticated
}

// trailerSetter is what both unary contexts and server streams can set trailers on.
type trailerSetter func(metadata.MD)

func unaryTrailers(ctx context.Context) trailerSetter {
	return func(md metadata.MD) { _ = grpc.SetTrailer(ctx, md) }
}

func streamTrailers(ss grpc.ServerStream) trailerSetter {
	return func(md metadata.MD) { ss.SetTrailer(md) }
}

// toStatus answers an error the way EventStoreDB does, trailers included, so that the
// official client maps it to the same error code it would get from a real node.
func (s *Server) toStatus(setTrailer trailerSetter, err error) error {
	var deleted *eventdb.StreamDeletedError
	var wrong *eventdb.WrongExpectedVersionError
	var tooLarge *eventdb.EventTooLargeError
	var refused *HistoryRefusedError
	switch {
	case errors.As(err, &refused):
		setTrailer(metadata.Pairs("exception", "access-denied"))
		return status.Error(codes.PermissionDenied, refused.Reason)
	case errors.As(err, &deleted):
		setTrailer(metadata.Pairs("exception", "stream-deleted", "stream-name", deleted.Stream))
		return status.Errorf(codes.FailedPrecondition, "Event stream '%s' is deleted.", deleted.Stream)
	case errors.As(err, &wrong):
		actual := ""
		if wrong.Current >= 0 {
			actual = strconv.FormatInt(wrong.Current, 10)
		} else {
			actual = "-1"
		}
		setTrailer(metadata.Pairs("exception", "wrong-expected-version", "stream-name", wrong.Stream,
			"expected-version", esdbVersionNumber(wrong.Expected), "actual-version", actual))
		return status.Errorf(codes.FailedPrecondition, "Operation failed due to WrongExpectedVersion. Stream: %s, Expected version: %s, Actual version: %s",
			wrong.Stream, esdbVersionNumber(wrong.Expected), actual)
	case errors.As(err, &tooLarge):
		setTrailer(metadata.Pairs("exception", "maximum-append-event-size-exceeded",
			"maximum-append-event-size", strconv.Itoa(tooLarge.Limit), "event-id", tooLarge.EventID,
			"proposed-append-event-size", strconv.Itoa(tooLarge.Size)))
		return status.Errorf(codes.InvalidArgument, "Event with Id: %s, Size: %d, exceeds Maximum Append Event Size of %d.", tooLarge.EventID, tooLarge.Size, tooLarge.Limit)
	case errors.Is(err, eventdb.ErrInvalidArgument):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, eventdb.ErrClosed):
		return status.Error(codes.Unavailable, "Server Is Not Ready")
	case errors.Is(err, eventdb.ErrDiskFull):
		s.log.Warn("event store write refused: disk full", "err", err)
		return diskFullStatus()
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	s.log.Error("event store request failed", "err", err)
	return status.Error(codes.Internal, fmt.Sprintf("internal error: %v", err))
}

// diskFullMessage is the status message of a write refused for lack of space. A real
// node has no such answer (KurrentDB stops when its disk fills), so the code is one the
// client passes through untouched: ResourceExhausted, not Unavailable, which would make
// the client drop its connection and rediscover a node that is answering reads well.
const diskFullMessage = "Disk full: the event store cannot write; nothing of this request was written"

func diskFullStatus() error { return status.Error(codes.ResourceExhausted, diskFullMessage) }

// IsDiskFull reports whether err, as the official client returns it from a write to the
// embedded store, says the store's disk is full.
func IsDiskFull(err error) bool {
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.ResourceExhausted && strings.Contains(st.Message(), diskFullMessage)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", eventdb.ErrInvalidArgument, fmt.Sprintf(format, args...))
}
