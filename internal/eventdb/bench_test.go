package eventdb

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
)

// BenchmarkAppendParallel measures durable appends straight into the store, without the
// protocol, with 64 concurrent writers of single 400-byte events.
func BenchmarkAppendParallel(b *testing.B) {
	db, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	payload := make([]byte, 400)
	var n atomic.Int64
	b.SetParallelism(32) // x GOMAXPROCS(2) = 64 writers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		stream := fmt.Sprintf("s-%d", n.Add(1))
		for pb.Next() {
			if _, err := db.Append(context.Background(), stream, Any, []ProposedEvent{{ID: uuid.New(), Type: "T", Data: payload}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	st := db.Stats()
	b.ReportMetric(float64(st.Writes)/float64(max(st.Commits, 1)), "writes/commit")
}
