package esdbserver

import (
	"context"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
)

// ProtocolVersion is the EventStoreDB server version whose gRPC protocol this server
// speaks; clients read it to decide which features they may use.
const ProtocolVersion = "24.10.0"

// featuresService answers ServerFeatures.
type featuresService struct {
	serverfeatures.UnimplementedServerFeaturesServer
	s *Server
}

// gossipService answers Gossip.
type gossipService struct {
	gossip.UnimplementedGossipServer
	s *Server
}

// GetSupportedMethods lists what is implemented, so clients do not try the rest.
func (featuresService) GetSupportedMethods(context.Context, *shared.Empty) (*serverfeatures.SupportedMethods, error) {
	const streams = "event_store.client.streams.streams"
	return &serverfeatures.SupportedMethods{
		EventStoreServerVersion: ProtocolVersion,
		Methods: []*serverfeatures.SupportedMethod{
			{ServiceName: streams, MethodName: "read", Features: []string{"position", "events"}},
			{ServiceName: streams, MethodName: "append"},
			{ServiceName: streams, MethodName: "delete"},
			{ServiceName: streams, MethodName: "tombstone"},
			{ServiceName: streams, MethodName: "batchappend"},
			{ServiceName: "event_store.client.server_features.serverfeatures", MethodName: "getsupportedmethods"},
			{ServiceName: "event_store.client.gossip.gossip", MethodName: "read"},
		},
	}, nil
}

// Read answers gossip as a one-node cluster whose only member is the leader, so that
// cluster connection strings (esdb+discover:// or several hosts) reach this node.
func (g gossipService) Read(context.Context, *shared.Empty) (*gossip.ClusterInfo, error) {
	s := g.s
	return &gossip.ClusterInfo{Members: []*gossip.MemberInfo{{
		InstanceId:   uuidProto(s.opts.InstanceID, false),
		TimeStamp:    time.Now().UnixNano() / 100,
		State:        gossip.MemberInfo_Leader,
		IsAlive:      true,
		HttpEndPoint: &gossip.EndPoint{Address: s.opts.AdvertiseHost, Port: uint32(s.opts.AdvertisePort)},
	}}}, nil
}
