package seal

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/gateledger/gateledger/eventstore"
)

// Break is something that does not verify: a seal that is not what it should be
// (Stream is the seal stream, Seal its sequence) or a sealed stream that no longer
// holds what was sealed (Stream names it, Seal is -1).
type Break struct {
	Stream string `json:"stream"`
	Seal   int64  `json:"seal"`
	Reason string `json:"reason"`
}

func (b Break) String() string {
	if b.Seal >= 0 {
		return fmt.Sprintf("%s seal %d: %s", b.Stream, b.Seal, b.Reason)
	}
	return fmt.Sprintf("%s: %s", b.Stream, b.Reason)
}

// Chain is the seals of a store, read and checked in order.
type Chain struct {
	// Latest is the last seal that checked, nil when there is none.
	Latest *Record
	// Tree is the set of streams the latest seal covers.
	Tree *Tree
	// Seals is how many seals were read.
	Seals int
	// RootsChecked is how many seals' roots were recomputed. The latest always is;
	// earlier ones are while the work stays within rootBudget.
	RootsChecked int
	// Breaks are the seals that did not check; reading stops at the first.
	Breaks []Break
}

// rootBudget bounds the leaves hashed to recheck earlier seals' roots: a year of
// hourly seals over a national estate would otherwise take hours. Every seal's
// signature and chain link are always checked.
const rootBudget = 20_000_000

// ReadChain reads every seal in Stream and checks it: its form, its place in the
// chain (sequence, previous seal's hash, position), its signature, its key (when
// trusted is set, every seal must be signed by it), that no stream goes back to an
// earlier revision, and the Merkle root over the streams sealed so far.
func ReadChain(ctx context.Context, client eventstore.Store, trusted ed25519.PublicKey) (*Chain, error) {
	c := &Chain{Tree: newTree(nil)}
	set := map[string]Entry{}
	var prev *Record
	hashed := 0
	var from esdb.StreamPosition = esdb.Start{}
	for {
		n := 0
		rs, err := client.ReadStream(ctx, Stream, esdb.ReadStreamOptions{Direction: esdb.Forwards, From: from}, readPage)
		if err != nil {
			return nil, fmt.Errorf("seal: read %s: %w", Stream, err)
		}
		var last uint64
		for {
			ev, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if eventstore.IsNotFound(err) {
				break
			}
			if eventstore.IsStreamDeleted(err) {
				rs.Close()
				c.Breaks = append(c.Breaks, Break{Stream: Stream, Seal: -1,
					Reason: "tombstoned: every seal is gone; compare the journeys with roots inspectors exported, and restore the store from a backup"})
				return c, nil
			}
			if err != nil {
				rs.Close()
				return nil, fmt.Errorf("seal: read %s: %w", Stream, err)
			}
			e := ev.OriginalEvent()
			if e == nil {
				continue
			}
			n++
			last = e.EventNumber
			if len(c.Breaks) > 0 {
				continue // after a break the chain vouches for nothing more
			}
			c.Seals++
			brk := func(format string, args ...any) {
				c.Breaks = append(c.Breaks, Break{Stream: Stream, Seal: int64(e.EventNumber), Reason: fmt.Sprintf(format, args...)})
			}
			if e.EventNumber != uint64(c.Seals-1) {
				brk("found at revision %d where seal %d should be: a seal is missing", e.EventNumber, c.Seals-1)
				continue
			}
			r, err := DecodeRecord(e.Data)
			if err != nil {
				brk("cannot be read: %v", err)
				continue
			}
			if r.Sequence != e.EventNumber {
				brk("says it is seal %d", r.Sequence)
				continue
			}
			if err := r.VerifySignature(); err != nil {
				brk("%v", err)
				continue
			}
			if trusted != nil {
				if k, _ := r.Key(); !k.Equal(trusted) {
					brk("signed by key %s, not this ledger's seal key %s", KeyFingerprint(k), KeyFingerprint(trusted))
					continue
				}
			}
			if prev != nil {
				if want := prev.Hash(); r.Previous != want {
					brk("names previous seal %s, but seal %d hashes to %s", r.Previous, prev.Sequence, want)
					continue
				}
				if r.Position < prev.Position {
					brk("covers $all up to position %d, before seal %d's %d", r.Position, prev.Sequence, prev.Position)
					continue
				}
			}
			bad := false
			for _, en := range r.Streams {
				if old, ok := set[en.Stream]; ok && (old.Revision > en.Revision || (old.Revision == en.Revision && old.Hash != en.Hash)) {
					brk("seals %s at revision %d (hash %s) after seal of revision %d (hash %s)", en.Stream, en.Revision, en.Hash, old.Revision, old.Hash)
					bad = true
					break
				}
				set[en.Stream] = en
			}
			if bad {
				continue
			}
			if uint64(len(set)) != r.Size {
				brk("says its tree holds %d streams; the seals so far add up to %d", r.Size, len(set))
				continue
			}
			rec := r
			prev = &rec
			if hashed+len(set) <= rootBudget {
				hashed += len(set)
				if err := checkRoot(newTree(set), r.Head); err != nil {
					brk("%v", err)
					continue
				}
				c.RootsChecked++
			}
		}
		rs.Close()
		if n < readPage {
			break
		}
		from = esdb.Revision(last + 1)
	}
	if prev != nil {
		c.Latest = prev
		c.Tree = newTree(set)
		if len(c.Breaks) == 0 && c.RootsChecked < c.Seals {
			// The latest root is always checked, whatever the budget.
			if err := checkRoot(c.Tree, prev.Head); err != nil {
				c.Breaks = append(c.Breaks, Break{Stream: Stream, Seal: int64(prev.Sequence), Reason: err.Error()})
			} else {
				c.RootsChecked++
			}
		}
	}
	return c, nil
}

func checkRoot(t *Tree, h Head) error {
	root := t.Root()
	if got := hex.EncodeToString(root[:]); got != h.Root {
		return fmt.Errorf("its root is %s, but the streams it covers hash to %s", h.Root, got)
	}
	return nil
}

// readPage is how many events one read asks for.
const readPage = 1024
