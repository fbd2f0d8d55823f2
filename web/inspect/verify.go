package inspect

import (
	"context"
	"fmt"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/projections"
)

// Mismatch is an audit row that differs from the event store.
type Mismatch struct {
	Revision uint64
	Position uint64
	Reason   string
	Expected string
	Found    string
}

// VerificationView is the check of a person's hash chain in the event store,
// and of the audit trail against it.
type VerificationView struct {
	NOMS string
	OK   bool
	// Checked counts the events whose hashes were recomputed; Head is the
	// last good hash.
	Checked int
	Head    string
	// Break is the first event whose hash does not chain, nil when none.
	Break      *Break
	Mismatches []Mismatch
}

// Break is where a chain stops verifying.
type Break struct {
	Revision uint64
	Position uint64
	EventID  string
	Reason   string
	Expected string
	Found    string
}

// Verify recomputes the person's hash chain from the events in the store and
// compares the audit trail with them (projections.VerifyPerson). The read is
// recorded.
func (i *Inspector) Verify(ctx context.Context, p auth.Principal, noms string) (VerificationView, error) {
	return read(ctx, i, p, noms, accessVerification, "", func(eventlog.JourneyStream) (VerificationView, error) {
		return i.verificationOf(ctx, noms)
	})
}

// verificationOf verifies the person's chain and trail.
func (i *Inspector) verificationOf(ctx context.Context, noms string) (VerificationView, error) {
	r, err := projections.VerifyPerson(ctx, i.cfg.Runner, i.cfg.Store.Client, noms)
	if err != nil {
		return VerificationView{}, fmt.Errorf("inspect: verify %s: %w", noms, err)
	}
	v := VerificationView{NOMS: noms, OK: r.OK(), Checked: r.Checked, Head: r.Head, Mismatches: []Mismatch{}}
	if b := r.Break; b != nil {
		v.Break = &Break{Revision: b.Revision, Position: r.BreakPosition, EventID: b.EventID.String(), Reason: b.Reason,
			Expected: b.Expected, Found: b.Found}
	}
	for _, m := range r.Mismatches {
		v.Mismatches = append(v.Mismatches, Mismatch{Revision: m.Revision, Position: m.Position, Reason: m.Reason,
			Expected: m.Expected, Found: m.Found})
	}
	return v, nil
}
