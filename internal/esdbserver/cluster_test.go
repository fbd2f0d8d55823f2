package esdbserver_test

import (
	"context"
	"errors"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/gateledger/gateledger/internal/esdbserver"
)

// anonymousConn is a TLS connection that sends no credentials.
func anonymousConn(t *testing.T, node *esdbserver.Node) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(node.Addr(), grpc.WithTransportCredentials(credentials.NewClientTLSFromCert(node.Secrets.CertPool, "")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func TestServerFeatures(t *testing.T) {
	node, _ := startNode(t, "")
	// Discovery needs no credentials, as on a real node.
	sm, err := serverfeatures.NewServerFeaturesClient(anonymousConn(t, node)).GetSupportedMethods(ctxT(t), &shared.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(sm.EventStoreServerVersion) {
		t.Fatalf("version %q is not numeric X.Y.Z", sm.EventStoreServerVersion)
	}
	var methods []string
	for _, m := range sm.Methods {
		methods = append(methods, m.ServiceName+"/"+m.MethodName)
	}
	for _, want := range []string{"event_store.client.streams.streams/read", "event_store.client.streams.streams/append", "event_store.client.streams.streams/delete", "event_store.client.streams.streams/tombstone", "event_store.client.streams.streams/batchappend"} {
		if !slices.Contains(methods, want) {
			t.Errorf("supported methods %v lack %s", methods, want)
		}
	}
}

func TestGossip(t *testing.T) {
	node, _ := startNode(t, "")
	info, err := gossip.NewGossipClient(anonymousConn(t, node)).Read(ctxT(t), &shared.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Members) != 1 {
		t.Fatalf("gossip lists %d members, want 1", len(info.Members))
	}
	m := info.Members[0]
	_, port, _ := splitHostPort(node.Addr())
	if m.State != gossip.MemberInfo_Leader || !m.IsAlive || m.HttpEndPoint.GetAddress() != "127.0.0.1" || int(m.HttpEndPoint.GetPort()) != port {
		t.Fatalf("member %v, want the alive leader at 127.0.0.1:%d", m, port)
	}
}

// TestClusterConnectionStrings: cluster-mode strings discover the node through gossip and
// then append and read through it.
func TestClusterConnectionStrings(t *testing.T) {
	node, _ := startNode(t, "")
	addr := node.Addr()
	for _, conn := range []string{
		"esdb://" + addr + "," + addr + "?tls=true",
		"esdb+discover://" + addr + "?tls=true",
		"esdb://" + addr + "?tls=true&nodePreference=leader",
	} {
		t.Run(conn, func(t *testing.T) {
			cfg, err := esdb.ParseConnectionString(conn)
			if err != nil {
				t.Fatal(err)
			}
			cfg.RootCAs = node.Secrets.CertPool
			cfg.Username, cfg.Password = node.Secrets.Username, node.Secrets.Password
			cfg.Logger = esdbserver.ClientLogging(quietLogger())
			c, err := esdb.NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			evs := events(2, "Clustered")
			stream := "cluster-" + regexp.MustCompile(`\W`).ReplaceAllString(conn, "")
			mustAppend(t, c, stream, esdb.NoStream{}, evs...)
			got := mustRead(t, c, stream, esdb.ReadStreamOptions{}, 10)
			if !slices.Equal(ids(got), dataIDs(evs)) {
				t.Fatalf("read back %v", ids(got))
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	node, _ := startNode(t, "")
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
	_, err = bad.AppendToStream(ctxT(t), "auth", esdb.AppendToStreamOptions{}, events(1, "T")...)
	wantCode(t, err, esdb.ErrorCodeUnauthenticated, "append with a wrong password")
	_, err = readStream(t, bad, "auth", esdb.ReadStreamOptions{}, 1)
	wantCode(t, err, esdb.ErrorCodeUnauthenticated, "read with a wrong password")
	_, err = bad.SubscribeToAll(ctxT(t), esdb.SubscribeToAllOptions{})
	wantCode(t, err, esdb.ErrorCodeUnauthenticated, "subscribe with a wrong password")
	_, err = bad.DeleteStream(ctxT(t), "auth", esdb.DeleteStreamOptions{})
	wantCode(t, err, esdb.ErrorCodeUnauthenticated, "delete with a wrong password")

	// A call without any credentials is refused too.
	raw := api.NewStreamsClient(anonymousConn(t, node))
	_, err = raw.Delete(ctxT(t), &api.DeleteReq{Options: &api.DeleteReq_Options{StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte("auth")}, ExpectedStreamRevision: &api.DeleteReq_Options_Any{Any: &shared.Empty{}}}})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("call without credentials: %v, want Unauthenticated", err)
	}
	if node.DB.LastPosition() != 0 {
		t.Fatal("an unauthenticated call wrote something")
	}

	// Per-call credentials override the client's.
	_, err = bad.AppendToStream(ctxT(t), "auth", esdb.AppendToStreamOptions{Authenticated: &esdb.Credentials{Login: node.Secrets.Username, Password: node.Secrets.Password}}, events(1, "T")...)
	if err != nil {
		t.Fatalf("append with per-call credentials: %v", err)
	}
}

func TestInsecureLoopback(t *testing.T) {
	node, c := startNodeWith(t, esdbserver.NodeConfig{Insecure: true, Listen: "127.0.0.1:0"})
	if node.Secrets != nil {
		t.Fatal("an insecure node has secrets")
	}
	evs := events(2, "T")
	mustAppend(t, c, "insecure", esdb.NoStream{}, evs...)
	if got := mustRead(t, c, "insecure", esdb.ReadStreamOptions{}, 10); !slices.Equal(ids(got), dataIDs(evs)) {
		t.Fatalf("read back %v", ids(got))
	}
	r := subscribeAll(t, c, esdb.SubscribeToAllOptions{From: esdb.Start{}})
	r.expectHistory(t, dataIDs(evs))
}

func TestInsecureRefusedOffLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0"} {
		node, err := esdbserver.StartNode(esdbserver.NodeConfig{DataDir: t.TempDir(), Insecure: true, Listen: addr, Logger: quietLogger()})
		if !errors.Is(err, esdbserver.ErrInsecureNotLoopback) {
			if node != nil {
				_ = node.Close(context.Background())
			}
			t.Fatalf("insecure on %s: %v, want ErrInsecureNotLoopback", addr, err)
		}
	}
}

// TestIPv6Loopback: a node listens on [::1], with and without TLS, and the
// official client reaches it (its connection-string parser cannot read an
// IPv6 literal, so ClientConfig must not go through one).
func TestIPv6Loopback(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback on this machine: %v", err)
	}
	_ = ln.Close()
	for _, insecure := range []bool{false, true} {
		node, c := startNodeWith(t, esdbserver.NodeConfig{Insecure: insecure, Listen: "[::1]:0"})
		if !strings.HasPrefix(node.Addr(), "[::1]:") {
			t.Fatalf("listening on %s", node.Addr())
		}
		evs := events(1, "T")
		mustAppend(t, c, "ipv6", esdb.Any{}, evs...)
		if got := mustRead(t, c, "ipv6", esdb.ReadStreamOptions{}, 10); len(got) == 0 {
			t.Fatal("nothing read back")
		}
	}
}
