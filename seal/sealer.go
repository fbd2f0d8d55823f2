package seal

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventstore"
)

// Sealer writes seals to a store.
type Sealer struct {
	Client eventstore.Store
	Key    ed25519.PrivateKey
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Options say when a seal call may write nothing.
type Options struct {
	// MinAge skips the seal when the latest one is younger: periodic sealing by
	// several instances then writes one seal per interval, not one per instance.
	MinAge time.Duration
	// SkipUnchanged skips the seal when no journey changed since the latest one (or,
	// with no seal yet, when there is no journey).
	SkipUnchanged bool
}

// Result is what a seal call did.
type Result struct {
	// Written is true when this call appended a seal.
	Written bool
	// Seal is the seal written, or the latest one when nothing was written (nil
	// when there is none).
	Seal *Signed
	// Skipped says why nothing was written.
	Skipped string
}

// Reasons a seal call writes nothing.
const (
	SkippedRecent    = "the latest seal is recent"
	SkippedUnchanged = "no journey changed since the latest seal"
	SkippedConflict  = "another instance wrote a seal first"
)

func (s *Sealer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sealer) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Seal reads the seal chain, the journey events written since the latest seal,
// and appends the next seal expecting the seal stream to be where it was read: when
// another instance sealed in between, nothing is written (SkippedConflict), so two
// instances never write two seals for one interval. A broken chain is an error: a
// ledger does not extend a chain it cannot vouch for.
func (s *Sealer) Seal(ctx context.Context, o Options) (Result, error) {
	pub := s.Key.Public().(ed25519.PublicKey)
	chain, err := ReadChain(ctx, s.Client, pub)
	if err != nil {
		return Result{}, err
	}
	if len(chain.Breaks) > 0 {
		return Result{}, fmt.Errorf("seal: the seal chain does not verify (%s); run gateledger verify and restore the seal stream before sealing again", chain.Breaks[0])
	}
	now := s.now().UTC()
	var latest *Signed
	if chain.Latest != nil {
		latest = &chain.Latest.Signed
		if o.MinAge > 0 && now.Sub(latest.SealedAt) < o.MinAge {
			return Result{Seal: latest, Skipped: SkippedRecent}, nil
		}
	}
	set := make(map[string]Entry, chain.Tree.Size())
	for _, e := range chain.Tree.Entries() {
		set[e.Stream] = e
	}
	changed, pos, err := s.changedSince(ctx, chain.Latest, set)
	if err != nil {
		return Result{}, err
	}
	// An empty store gets no seal either: there is nothing to vouch for, and an
	// event in it would make the store look used (serve --demo loads only an empty one).
	if len(changed) == 0 && o.SkipUnchanged {
		return Result{Seal: latest, Skipped: SkippedUnchanged}, nil
	}
	for _, e := range changed {
		set[e.Stream] = e
	}
	tree := newTree(set)
	root := tree.Root()
	h := Head{Version: Version, SealedAt: now, Position: pos, Size: uint64(tree.Size()), Root: hex.EncodeToString(root[:]),
		Changed: uint64(len(changed)), Changes: changesDigest(changed)}
	expected := esdb.ExpectedRevision(esdb.NoStream{})
	if chain.Latest != nil {
		h.Sequence = chain.Latest.Sequence + 1
		h.Previous = chain.Latest.Hash()
		expected = esdb.Revision(chain.Latest.Sequence)
	}
	rec := Record{Signed: sign(h, s.Key), Streams: changed}
	if rec.Streams == nil {
		rec.Streams = []Entry{}
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return Result{}, fmt.Errorf("seal: encode: %w", err)
	}
	_, err = s.Client.AppendToStream(ctx, Stream, esdb.AppendToStreamOptions{ExpectedRevision: expected},
		esdb.EventData{ContentType: esdb.ContentTypeJson, EventType: EventType, Data: data})
	if eventstore.IsWrongExpectedVersion(err) {
		s.log().Info("seal: another instance sealed first", "sequence", h.Sequence)
		return Result{Skipped: SkippedConflict}, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("seal: append to %s: %w", Stream, err)
	}
	s.log().Info("history sealed", "sequence", h.Sequence, "streams", h.Size, "changed", h.Changed, "root", h.Root, "position", h.Position)
	return Result{Written: true, Seal: &rec.Signed}, nil
}

// allPage is how many events one read of $all asks for.
const allPage = 4096

// changedSince reads $all after the latest seal's position and returns every journey
// stream whose last event there is not what set holds, sorted, with the position
// read up to.
func (s *Sealer) changedSince(ctx context.Context, latest *Record, set map[string]Entry) ([]Entry, uint64, error) {
	var from esdb.AllPosition = esdb.Start{}
	var pos uint64
	started := false
	if latest != nil {
		pos, started = latest.Position, true
		from = esdb.Position{Commit: pos, Prepare: pos}
	}
	found := map[string]Entry{}
	for {
		rs, err := s.Client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Forwards, From: from}, allPage)
		if err != nil {
			return nil, 0, fmt.Errorf("seal: read $all: %w", err)
		}
		n, err := func() (int, error) {
			defer rs.Close()
			n := 0
			for {
				ev, err := rs.Recv()
				if errors.Is(err, io.EOF) {
					return n, nil
				}
				if err != nil {
					return n, fmt.Errorf("seal: read $all: %w", err)
				}
				e := ev.OriginalEvent()
				if e == nil {
					continue
				}
				n++
				if started && e.Position.Commit <= pos {
					continue // the page starts at the last event already read
				}
				started, pos = true, e.Position.Commit
				if _, ok := aggregates.NOMSFromStream(e.StreamID); !ok {
					continue
				}
				hash, _ := eventlog.EnvelopeHashes(e.UserMetadata)
				if !isHex32(hash) {
					s.log().Warn("seal: a journey event has no hash in its metadata and is not sealed; run gateledger verify",
						"stream", e.StreamID, "revision", e.EventNumber)
					continue
				}
				found[e.StreamID] = Entry{Stream: e.StreamID, Revision: e.EventNumber, Hash: hash}
			}
		}()
		if err != nil {
			return nil, 0, err
		}
		if n < allPage {
			break
		}
		from = esdb.Position{Commit: pos, Prepare: pos}
	}
	var out []Entry
	for name, e := range found {
		old, sealed := set[name]
		switch {
		case sealed && old == e:
			continue
		case sealed && old.Revision >= e.Revision:
			// A stream that now ends before what was sealed was deleted and written
			// again: keep the seal of the history it had; verify reports the loss.
			s.log().Warn("seal: a journey stream ends before its sealed revision; run gateledger verify",
				"stream", name, "sealed_revision", old.Revision, "revision", e.Revision)
			continue
		}
		out = append(out, e)
	}
	sortEntries(out)
	return out, pos, nil
}

// Run seals every interval (and once at the start) until ctx ends, skipping when
// another instance sealed within the interval or nothing changed. Failures are
// logged and tried again at the next tick.
func (s *Sealer) Run(ctx context.Context, interval time.Duration) {
	// A tenth of the interval absorbs the ticker's jitter, so that a lone instance
	// does not skip every other tick.
	o := Options{MinAge: interval - interval/10, SkipUnchanged: true}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Seal(ctx, o); err != nil && ctx.Err() == nil {
			s.log().Error("seal failed; the next attempt is at the next interval", "err", err, "interval", interval.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
