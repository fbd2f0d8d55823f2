package projections

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// HandoversName names the handover queue projection and its bucket.
const HandoversName = "handovers"

var handoverRows = []byte("rows")

const handoverRowVersion = 1

// Direction says which side of a handover an organisation is on.
type Direction byte

// Directions; the byte is part of the row key.
const (
	Sending   Direction = 'S'
	Receiving Direction = 'R'
)

// HandoversProjection keeps every handover ever requested, once in the queue of the organisation
// sending it and once in the queue of the one receiving it. Rows are never deleted:
// accepted and rejected handovers stay, because the inspectorate found that systems
// which drop allocations lose accountability.
//
// Storage: sub-bucket "rows", key org ‖ 0x00 ‖ direction ('R' or 'S') ‖ state (1 open,
// 2 decided) ‖ NOMS ‖ 0x00 ‖ U64(seq), value the binary row of encodeHandover. A
// decision moves the row from the open range to the decided one, so that the list
// order (receiving first, open first, then prison number) is the key order, and the
// direction and state filters are ranges of keys (handovers_page.go). Overdue and age
// depend on now and are decided at query time.
type HandoversProjection struct {
	policy aggregates.Policy
}

// NewHandovers returns the handover queue projection; policy names the allocation
// model in force when each handover was requested.
func NewHandovers(policy aggregates.Policy) *HandoversProjection {
	return &HandoversProjection{policy: policy}
}

// Name implements Projection.
func (*HandoversProjection) Name() string { return HandoversName }

// Version implements Projection.
func (*HandoversProjection) Version() int { return 2 }

// Apply implements Projection: a handover event rewrites both rows of that handover
// from the journey after it.
func (h *HandoversProjection) Apply(b *bolt.Bucket, ev *readmodel.Event) error {
	if !ev.IsJourney() {
		return nil
	}
	if ev.DecodeErr != nil {
		return ev.DecodeErr
	}
	var seq int
	switch e := ev.Domain.(type) {
	case aggregates.HandoverRequested:
		seq = e.Seq
	case aggregates.HandoverAccepted:
		seq = e.Seq
	case aggregates.HandoverRejected:
		seq = e.Seq
	default:
		return nil
	}
	if ev.After == nil {
		return nil
	}
	i := slices.IndexFunc(ev.After.Handovers, func(x aggregates.Handover) bool { return x.Seq == seq })
	if i < 0 {
		// The aggregate ignores a decision on an unknown handover; so does the queue.
		return nil
	}
	ho := ev.After.Handovers[i]
	rows, err := readmodel.SubBucket(b, handoverRows)
	if err != nil {
		return err
	}
	model := ""
	if m, ok := h.policy.Allocation.ModelAt(ho.RequestedAt); ok {
		model = string(m.Kind)
	}
	v := encodeHandover(ho, model)
	for _, side := range [...]struct {
		org aggregates.Org
		dir Direction
	}{{ho.From, Sending}, {ho.To, Receiving}} {
		if side.org == "" {
			continue
		}
		// The row of the other state, if any, goes: a decision moves it.
		if err := rows.Delete(handoverKey(side.org, side.dir, stateOther(ho.Status), ev.NOMS, ho.Seq)); err != nil {
			return fmt.Errorf("handover row: %w", err)
		}
		if err := rows.Put(handoverKey(side.org, side.dir, stateOf(ho.Status), ev.NOMS, ho.Seq), v); err != nil {
			return fmt.Errorf("handover row: %w", err)
		}
	}
	return nil
}

// HandoverState is the state filter of a handover list, and part of the row key.
type HandoverState byte

// States: open, or decided (accepted or rejected).
const (
	HandoverOpen    HandoverState = 1
	HandoverDecided HandoverState = 2
)

func stateOf(s aggregates.HandoverStatus) HandoverState {
	if s == aggregates.HandoverStatusOpen {
		return HandoverOpen
	}
	return HandoverDecided
}

func stateOther(s aggregates.HandoverStatus) HandoverState {
	if stateOf(s) == HandoverOpen {
		return HandoverDecided
	}
	return HandoverOpen
}

func handoverKey(org aggregates.Org, dir Direction, st HandoverState, noms string, seq int) []byte {
	k := readmodel.Key(string(org))
	k = append(k, byte(dir), byte(st))
	k = append(k, noms...)
	k = append(k, 0)
	return append(k, readmodel.U64(uint64(seq))...)
}

func encodeHandover(h aggregates.Handover, model string) []byte {
	var w readmodel.Writer
	w.U8(handoverRowVersion)
	w.Str(string(h.From))
	w.Str(string(h.To))
	w.Str(h.Reason)
	w.Str(string(h.Status))
	w.Time(h.RequestedAt)
	w.Time(h.Due)
	w.Time(h.DecidedAt)
	w.Str(h.RejectReason)
	w.Str(model)
	return w
}

// HandoverRow is one handover in an organisation's queue.
type HandoverRow struct {
	NOMS string
	Seq  int
	// Direction is the queried organisation's side; Counterpart the other side.
	Direction   Direction
	Counterpart aggregates.Org
	From, To    aggregates.Org
	Reason      string
	Status      aggregates.HandoverStatus
	RequestedAt time.Time
	Due         time.Time
	DecidedAt   time.Time
	// RejectReason says why a rejected handover was refused.
	RejectReason string
	// Model is the allocation model in force when the handover was requested
	// (SPLIT_2014 or UNIFIED_2021 by default).
	Model aggregates.ModelKind
	// Overdue: open and past its due time at the query's now.
	Overdue bool
	// Late: decided after its due time.
	Late bool
	// Age is how long the handover has been open (until now, or until its decision).
	Age time.Duration
}

// HandoverQueue is what an organisation is sending and receiving.
type HandoverQueue struct {
	Org aggregates.Org
	// Sending and Receiving are ordered open first, then by request time.
	Sending   []HandoverRow
	Receiving []HandoverRow
	// Counts over both directions.
	Open, Accepted, Rejected, Overdue int
}

// Handovers returns org's handover queue with overdue flags and ages at now.
func Handovers(r *readmodel.Runner, org string, now time.Time) (HandoverQueue, error) {
	q := HandoverQueue{Org: aggregates.Org(org), Sending: []HandoverRow{}, Receiving: []HandoverRow{}}
	prefix := readmodel.Key(org)
	err := r.View(HandoversName, func(b *bolt.Bucket) error {
		return readmodel.ScanPrefix(b.Bucket(handoverRows), prefix, func(k, v []byte) error {
			row, err := decodeHandoverRow(k[len(prefix):], v, now)
			if err != nil {
				return fmt.Errorf("handovers of %s: %w", org, err)
			}
			switch row.Status {
			case aggregates.HandoverStatusOpen:
				q.Open++
			case aggregates.HandoverStatusAccepted:
				q.Accepted++
			case aggregates.HandoverStatusRejected:
				q.Rejected++
			}
			if row.Overdue {
				q.Overdue++
			}
			if row.Direction == Sending {
				q.Sending = append(q.Sending, row)
			} else {
				q.Receiving = append(q.Receiving, row)
			}
			return nil
		})
	})
	if err != nil {
		return HandoverQueue{}, err
	}
	order := func(a, b HandoverRow) int {
		ao, bo := a.Status == aggregates.HandoverStatusOpen, b.Status == aggregates.HandoverStatusOpen
		if ao != bo {
			if ao {
				return -1
			}
			return 1
		}
		return cmp.Or(a.RequestedAt.Compare(b.RequestedAt), cmp.Compare(a.NOMS, b.NOMS), cmp.Compare(a.Seq, b.Seq))
	}
	slices.SortFunc(q.Sending, order)
	slices.SortFunc(q.Receiving, order)
	return q, nil
}

// decodeHandoverRow reads a row; rest is the key after the organisation prefix.
func decodeHandoverRow(rest, v []byte, now time.Time) (HandoverRow, error) {
	if len(rest) < 2+1+8 || rest[len(rest)-9] != 0 {
		return HandoverRow{}, fmt.Errorf("%w: handover key", readmodel.ErrCorruptRow)
	}
	row := HandoverRow{Direction: Direction(rest[0]), NOMS: string(rest[2 : len(rest)-9])}
	r := readmodel.Reader{B: rest[len(rest)-8:]}
	row.Seq = int(r.U64())
	r = readmodel.Reader{B: v}
	if ver := r.U8(); ver != handoverRowVersion {
		return HandoverRow{}, fmt.Errorf("%w: handover row version %d", readmodel.ErrCorruptRow, ver)
	}
	row.From = aggregates.Org(r.Str())
	row.To = aggregates.Org(r.Str())
	row.Reason = r.Str()
	row.Status = aggregates.HandoverStatus(r.Str())
	row.RequestedAt = r.Time()
	row.Due = r.Time()
	row.DecidedAt = r.Time()
	row.RejectReason = r.Str()
	row.Model = aggregates.ModelKind(r.Str())
	if r.Err != nil {
		return HandoverRow{}, r.Err
	}
	if row.Direction == Sending {
		row.Counterpart = row.To
	} else {
		row.Counterpart = row.From
	}
	if row.Status == aggregates.HandoverStatusOpen {
		row.Overdue = !row.Due.IsZero() && now.After(row.Due)
		row.Age = now.Sub(row.RequestedAt)
	} else {
		row.Late = !row.Due.IsZero() && row.DecidedAt.After(row.Due)
		row.Age = row.DecidedAt.Sub(row.RequestedAt)
	}
	return row, nil
}
