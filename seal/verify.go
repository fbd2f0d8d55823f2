package seal

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventstore"
)

// Report is the result of Verify.
type Report struct {
	// Seals is how many seals were read, RootsChecked how many roots recomputed.
	Seals        int `json:"seals"`
	RootsChecked int `json:"rootsChecked"`
	// Streams is how many sealed streams were checked against the store.
	Streams int `json:"streams"`
	// Latest is the latest seal that verified, nil when there is none.
	Latest *Signed `json:"latest,omitempty"`
	// Key is the fingerprint of the key the seals were checked against; empty when
	// no key was trusted and each seal was checked with the key it names.
	Key string `json:"key,omitempty"`
	// Breaks are the seals and sealed streams that do not verify.
	Breaks []Break `json:"breaks"`
}

// OK reports whether everything verified.
func (r Report) OK() bool { return len(r.Breaks) == 0 }

// Verify checks the seal chain (ReadChain) and then that every stream the latest
// seal covers still holds what was sealed: it exists, is not tombstoned, deleted or
// truncated, has no $maxAge, $maxCount or $tb that hides events, reads from revision
// 0, reaches the sealed revision, and has the sealed hash there.
func Verify(ctx context.Context, client eventstore.Store, trusted ed25519.PublicKey) (Report, error) {
	chain, err := ReadChain(ctx, client, trusted)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Seals: chain.Seals, RootsChecked: chain.RootsChecked, Breaks: chain.Breaks}
	if trusted != nil {
		rep.Key = KeyFingerprint(trusted)
	}
	if chain.Latest != nil {
		rep.Latest = &chain.Latest.Signed
	}
	// The seal stream's own metadata can hide seals (a soft delete leaves it empty).
	meta, err := readOne(ctx, client, "$$"+Stream, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}})
	if err != nil && !eventstore.IsStreamDeleted(err) {
		return Report{}, err
	}
	if meta != nil {
		for _, why := range hidingMetadata(meta.Data) {
			rep.Breaks = append(rep.Breaks, Break{Stream: Stream, Seal: -1, Reason: why})
		}
	}
	entries := chain.Tree.Entries()
	rep.Streams = len(entries)
	// A few reads in flight hide the round trips to the store; more only queue.
	const workers = 8
	reasons := make([]string, len(entries))
	work := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				r, err := CheckStream(ctx, client, entries[i])
				if err != nil {
					errs <- err
					return
				}
				reasons[i] = r
			}
		}()
	}
	var firstErr error
feed:
	for i := range entries {
		select {
		case work <- i:
		case firstErr = <-errs:
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr == nil {
		select {
		case firstErr = <-errs:
		default:
		}
	}
	if firstErr != nil {
		return Report{}, firstErr
	}
	for i, r := range reasons {
		if r != "" {
			rep.Breaks = append(rep.Breaks, Break{Stream: entries[i].Stream, Seal: -1, Reason: r})
		}
	}
	return rep, nil
}

// CheckStream checks one sealed stream against the store and says what is wrong
// with it, "" when nothing is. The error is for a store that cannot be read.
func CheckStream(ctx context.Context, client eventstore.Store, e Entry) (string, error) {
	var why []string
	sealed := fmt.Sprintf("sealed with revisions 0 to %d", e.Revision)
	meta, err := readOne(ctx, client, "$$"+e.Stream, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}})
	if err != nil && !eventstore.IsStreamDeleted(err) {
		return "", err
	}
	if meta != nil {
		why = append(why, hidingMetadata(meta.Data)...)
	}
	first, err := readOne(ctx, client, e.Stream, esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Start{}})
	switch {
	case eventstore.IsStreamDeleted(err):
		return strings.Join(append(why, "tombstoned (hard-deleted): "+sealed+", none can ever be read again"), "; "), nil
	case err != nil:
		return "", err
	case first == nil:
		if len(why) == 0 {
			why = append(why, "deleted: the stream has no readable events; it was "+sealed)
		}
		return strings.Join(why, "; "), nil
	case first.EventNumber > 0:
		why = append(why, fmt.Sprintf("truncated: revisions 0 to %d are hidden; it was %s", first.EventNumber-1, sealed))
	}
	at, err := readOne(ctx, client, e.Stream, esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Revision(e.Revision)})
	if err != nil {
		return "", err
	}
	if at == nil || at.EventNumber != e.Revision {
		last, err := readOne(ctx, client, e.Stream, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}})
		if err != nil && !eventstore.IsStreamDeleted(err) {
			return "", err
		}
		now := "no readable event"
		if last != nil {
			now = fmt.Sprintf("its last revision is %d", last.EventNumber)
		}
		why = append(why, fmt.Sprintf("shortened: sealed at revision %d, %s", e.Revision, now))
		return strings.Join(why, "; "), nil
	}
	if hash, _ := eventlog.EnvelopeHashes(at.UserMetadata); hash != e.Hash {
		why = append(why, fmt.Sprintf("rewritten: the event at revision %d has hash %q, the seal says %q", e.Revision, hash, e.Hash))
	}
	return strings.Join(why, "; "), nil
}

// hidingMetadata names the stream metadata properties that hide, or will hide,
// sealed events: a soft delete ($tb at its largest), $tb, $maxCount and $maxAge.
func hidingMetadata(data []byte) []string {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return nil
	}
	num := func(k string) (float64, bool) {
		var v float64
		if raw, ok := m[k]; !ok || json.Unmarshal(raw, &v) != nil || v <= 0 {
			return 0, false
		}
		return v, true
	}
	var out []string
	if tb, ok := num("$tb"); ok {
		if tb >= math.MaxInt64/2 {
			out = append(out, "deleted (soft delete: $tb at its largest in its metadata hides every event)")
		} else {
			out = append(out, fmt.Sprintf("$tb=%.0f in its metadata hides revisions before %.0f", tb, tb))
		}
	}
	if n, ok := num("$maxCount"); ok {
		out = append(out, fmt.Sprintf("$maxCount=%.0f in its metadata hides all but the last %.0f events", n, n))
	}
	if s, ok := num("$maxAge"); ok {
		out = append(out, fmt.Sprintf("$maxAge=%.0f in its metadata hides events older than %.0f seconds", s, s))
	}
	return out
}

// readOne reads one event; nil when the stream has none there or does not exist.
// A tombstoned stream is an error matching eventstore.IsStreamDeleted.
func readOne(ctx context.Context, client eventstore.Store, stream string, opts esdb.ReadStreamOptions) (*esdb.RecordedEvent, error) {
	rs, err := client.ReadStream(ctx, stream, opts, 1)
	if eventstore.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("seal: read %s: %w", stream, err)
	}
	defer rs.Close()
	ev, err := rs.Recv()
	switch {
	case errors.Is(err, io.EOF), eventstore.IsNotFound(err):
		return nil, nil
	case eventstore.IsStreamDeleted(err):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("seal: read %s: %w", stream, err)
	}
	return ev.OriginalEvent(), nil
}

// ErrNotSealed is Export's answer for a store with no seal, or a person whose
// journey no seal covers yet.
var ErrNotSealed = errors.New("not sealed yet")

// Export returns the latest seal's signed head and the inclusion proof of the
// person's journey stream in it. A seal chain that does not verify is an error: an
// inspector is never handed a proof from a broken chain.
func Export(ctx context.Context, client eventstore.Store, trusted ed25519.PublicKey, noms string) (Signed, Proof, error) {
	chain, err := ReadChain(ctx, client, trusted)
	if err != nil {
		return Signed{}, Proof{}, err
	}
	if len(chain.Breaks) > 0 {
		return Signed{}, Proof{}, fmt.Errorf("seal: the seal chain does not verify (%s); run gateledger verify", chain.Breaks[0])
	}
	if chain.Latest == nil {
		return Signed{}, Proof{}, fmt.Errorf("%w: the store has no seal; write one with gateledger seal write or POST /v1/seals", ErrNotSealed)
	}
	p, ok := chain.Tree.proof(chain.Latest.Head, aggregates.StreamName(noms))
	if !ok {
		return Signed{}, Proof{}, fmt.Errorf("%w: no seal covers %s yet; write a seal and export again", ErrNotSealed, noms)
	}
	return chain.Latest.Signed, p, nil
}
