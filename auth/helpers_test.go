package auth

import (
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/eventstore"
)

func sealedMeta() aggregates.Metadata {
	return aggregates.Metadata{UserID: "mallory", OccurredAt: time.Now(), Source: aggregates.SourceSystem, SchemaVersion: 1}
}

func appendAfter(h eventlog.Head) esdb.AppendToStreamOptions {
	return esdb.AppendToStreamOptions{ExpectedRevision: h.ExpectedRevision()}
}

func fuzzStore(f *testing.F) *eventstore.Conn { return eventlogtest.Store(f) }
