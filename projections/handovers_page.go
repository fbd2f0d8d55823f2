package projections

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gateledger/gateledger/projections/readmodel"
)

// One page of an organisation's handover queue. The order is the rows' key order
// (handovers.go): receiving before sending, open before decided, then prison number
// and the handover's sequence. The direction and state filters therefore choose
// ranges of keys, and a page of them, or of the whole queue, reads about Limit rows
// however long the queue is. The prison number search is tested on the key, before
// decoding; overdue (open, past its due time at Now) is decided on the decoded row,
// within the open ranges only. Either of these, when few rows match, reads at worst
// every row of the ranges chosen once: for overdue, the open handovers of the
// organisation, which the queue keeps few (a handover is decided within days).

// HandoverFilter selects rows of a handover page; the zero value selects them all.
type HandoverFilter struct {
	// Direction, when not 0, keeps the handovers the organisation is receiving
	// (Receiving, "incoming") or sending (Sending, "outgoing").
	Direction Direction
	// State, when not 0, keeps open or decided handovers.
	State HandoverState
	// Overdue keeps open handovers past their due time (and implies State open).
	Overdue bool
	// Search keeps handovers whose prison number contains it (case does not matter).
	Search string
}

// HandoverQuery asks for one page of an organisation's handover queue.
type HandoverQuery struct {
	Org    string
	Now    time.Time
	Filter HandoverFilter
	// Limit is the page size: DefaultPageSize when zero, at most MaxPageSize.
	Limit int
	// After (HandoverPage.Next) or Before (HandoverPage.Prev); at most one is set.
	After, Before string
}

// HandoverPage is one page of a handover queue, in the queue's order.
type HandoverPage struct {
	Rows []HandoverRow
	// Next and Prev are the cursors of the following and preceding pages, "" for none.
	Next, Prev string
}

// handoverRanges are the key ranges (direction ‖ state) a filter reads, in list order.
func (f HandoverFilter) ranges() [][]byte {
	var out [][]byte
	for _, d := range [...]Direction{Receiving, Sending} {
		if f.Direction != 0 && f.Direction != d {
			continue
		}
		for _, s := range [...]HandoverState{HandoverOpen, HandoverDecided} {
			if (f.State != 0 && f.State != s) || (f.Overdue && s != HandoverOpen) {
				continue
			}
			out = append(out, []byte{byte(d), byte(s)})
		}
	}
	return out
}

// HandoversPage returns one page of q.Org's handovers, with overdue flags and ages at
// q.Now.
func HandoversPage(r *readmodel.Runner, q HandoverQuery) (HandoverPage, error) {
	if q.After != "" && q.Before != "" {
		return HandoverPage{}, fmt.Errorf("after and before: %w", ErrBadCursor)
	}
	f := q.Filter
	if (f.Direction != 0 && f.Direction != Receiving && f.Direction != Sending) ||
		(f.State != 0 && f.State != HandoverOpen && f.State != HandoverDecided) {
		return HandoverPage{}, fmt.Errorf("handover filter %+v: not a direction or state", f)
	}
	var from []byte
	var err error
	switch {
	case q.After != "":
		from, err = decodeCursor(q.After, listHandovers, false)
	case q.Before != "":
		from, err = decodeCursor(q.Before, listHandovers, false)
	}
	if err != nil {
		return HandoverPage{}, err
	}
	search := []byte(strings.ToUpper(strings.TrimSpace(f.Search)))
	pb := newPageBuilder[HandoverRow](listHandovers, false, q.Limit, q.After, q.Before)
	page := HandoverPage{Rows: pb.rows}
	err = r.View(HandoversName, func(b *bolt.Bucket) error {
		rows := b.Bucket(handoverRows)
		if rows == nil {
			return nil
		}
		prefix := readmodel.Key(q.Org)
		walk := newRangesWalk(rows.Cursor(), prefix, f.ranges(), from, pb.backward())
		for k, v := walk.first(); k != nil; k, v = walk.next() {
			rest := k[len(prefix):]
			if len(search) > 0 && (len(rest) < 11 || !bytes.Contains(rest[2:len(rest)-9], search)) {
				continue
			}
			row, err := decodeHandoverRow(rest, v, q.Now)
			if err != nil {
				return fmt.Errorf("handovers of %s: %w", q.Org, err)
			}
			if f.Overdue && !row.Overdue {
				continue
			}
			if pb.full() {
				break
			}
			pb.add(rest, row)
		}
		page.Rows, page.Next, page.Prev = pb.finish()
		return nil
	})
	return page, err
}
