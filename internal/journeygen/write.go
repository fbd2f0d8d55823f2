package journeygen

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventstore"
)

// Writer appends generated journeys to an event store with the envelope and hash chain
// the command service would have written, much faster than deciding each command
// through the service: a chunk of steps is one append.
type Writer struct {
	Client eventstore.Store
	// Concurrency is how many appends run at once; 0 means 32.
	Concurrency int
	// StepsPerAppend is how many steps of one journey go in one append; a smaller
	// number interleaves people's events more in $all, as live traffic does. 0 means 8.
	StepsPerAppend int
	// Progress, if set, is called with the number of events written so far.
	Progress func(events int64)
}

// Write appends the journeys round by round: the first chunk of every journey, then the
// second, and so on, so that histories interleave in $all.
func (w *Writer) Write(ctx context.Context, journeys []Journey) error {
	conc, per := w.Concurrency, w.StepsPerAppend
	if conc <= 0 {
		conc = 32
	}
	if per <= 0 {
		per = 8
	}
	heads := make([]eventlog.Head, len(journeys))
	var written atomic.Int64
	for round := 0; ; round++ {
		work := make(chan int)
		errs := make(chan error, conc)
		var wg sync.WaitGroup
		for c := 0; c < conc; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					j := journeys[i]
					steps := j.Steps[round*per : min(len(j.Steps), (round+1)*per)]
					head, n, err := appendSteps(ctx, w.Client, j.NOMS, heads[i], round, steps)
					if err != nil {
						errs <- err
						return
					}
					heads[i] = head
					if w.Progress != nil {
						w.Progress(written.Add(int64(n)))
					}
				}
			}()
		}
		more := false
	feed:
		for i, j := range journeys {
			if len(j.Steps) <= round*per {
				continue
			}
			more = true
			select {
			case work <- i:
			case err := <-errs:
				close(work)
				wg.Wait()
				return err
			case <-ctx.Done():
				break feed
			}
		}
		close(work)
		wg.Wait()
		select {
		case err := <-errs:
			return err
		default:
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
}

// appendSteps appends the events of some steps, each step with its own envelope.
func appendSteps(ctx context.Context, client eventstore.Store, noms string, head eventlog.Head, chunk int, steps []Step) (eventlog.Head, int, error) {
	var proposed []eventlog.Proposed
	for k, s := range steps {
		cmdJSON, err := json.Marshal(s.Command)
		if err != nil {
			return head, 0, err
		}
		digest := sha256.Sum256(append([]byte(s.Command.CommandName()+"\n"), cmdJSON...))
		key := fmt.Sprintf("gen:%s:%d:%d", noms, chunk, k)
		for _, ev := range s.Events {
			typ, data, err := aggregates.Encode(ev)
			if err != nil {
				return head, 0, err
			}
			occurred := s.At
			if t, ok := ev.(interface{ OccurredAt() time.Time }); ok && !t.OccurredAt().IsZero() {
				occurred = t.OccurredAt()
			}
			proposed = append(proposed, eventlog.Proposed{Type: typ, Data: data, Metadata: eventlog.Metadata{
				Metadata: aggregates.Metadata{
					UserID: s.Actor.UserID, Role: s.Actor.Role, Organisation: s.Actor.Organisation,
					OccurredAt: occurred, RecordedAt: s.At.Add(90 * time.Second), Source: s.Actor.Source,
					CorrelationID: key, IdempotencyKey: key, SchemaVersion: ev.SchemaVersion(),
				},
				Command: s.Command.CommandName(), CommandDigest: hex.EncodeToString(digest[:]),
			}})
		}
	}
	if len(proposed) == 0 {
		return head, 0, nil
	}
	res, err := eventlog.Append(ctx, client, aggregates.StreamName(noms), head, fmt.Sprintf("gen:%s:%d", noms, chunk), proposed)
	if err != nil {
		return head, 0, fmt.Errorf("write generated journey %s: %w", noms, err)
	}
	return res.Head, len(proposed), nil
}
