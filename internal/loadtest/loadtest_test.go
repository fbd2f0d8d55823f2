package loadtest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/calendar"
	"github.com/gateledger/gateledger/internal/loadtest"
)

// TestRunSmall runs a test-sized load (50 subscribers, 100 commands/s for
// 3 s, handovers included) and checks the accounting: every expected
// delivery arrives once, nothing a subscriber may not see arrives, and the
// figures are filled in.
func TestRunSmall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var progress strings.Builder
	res, err := loadtest.Run(ctx, loadtest.Config{Dir: t.TempDir(), Policy: aggregates.DefaultPolicy(calendar.New(time.UTC)),
		Subscribers: 50, Rate: 100, Duration: 3 * time.Second, JourneysPerProvider: 2, Progress: &progress, CheckpointInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	t.Logf("%+v", res)
	if res.CommandErrors != 0 {
		t.Errorf("%d commands failed", res.CommandErrors)
	}
	if res.Commands < 250 || res.Commands > 300 || res.Subscribers != 50 || res.Journeys != 24 {
		t.Errorf("commands %d, subscribers %d, journeys %d", res.Commands, res.Subscribers, res.Journeys)
	}
	// 24 cases (two for each of the 12 regions), about 12 commands each: every case changes hands during the
	// run, so visibility changes are exercised.
	if res.Events <= res.Commands {
		t.Errorf("%d events for %d commands: no handover happened", res.Events, res.Commands)
	}
	if res.Lost != 0 || res.Duplicates != 0 || res.Unexpected != 0 || res.ClosedByServer != 0 {
		t.Errorf("lost %d, duplicates %d, unexpected %d, closed %d", res.Lost, res.Duplicates, res.Unexpected, res.ClosedByServer)
	}
	if res.Expected == 0 || res.Deliveries != res.Expected {
		t.Errorf("deliveries %d, expected %d", res.Deliveries, res.Expected)
	}
	if res.P50Ms <= 0 || res.P99Ms < res.P50Ms || res.MaxMs < res.P99Ms || res.BytesPerConn <= 0 {
		t.Errorf("figures: %+v", res)
	}
}

func TestConfigBounds(t *testing.T) {
	_, err := loadtest.Run(context.Background(), loadtest.Config{Dir: t.TempDir(), Subscribers: loadtest.MaxSubscribers + 1})
	if err == nil {
		t.Fatal("a run over the bounds was accepted")
	}
	if _, err := loadtest.Run(context.Background(), loadtest.Config{}); err == nil {
		t.Fatal("a run without a directory was accepted")
	}
}
