package projections

import (
	"bytes"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// What every paged list shares (caseload, handovers, outcome cohorts): a walk over
// keys in the list's order, from just past a cursor, that collects one page of rows
// and stops at the first match after the page is full (which only says there is a
// next page); and the page's next and previous cursors, which are the keys of its
// last and first rows wrapped by encodeCursor with the list's tag.

// Tags of the lists other than the caseload's orders, for their cursors (a cursor of
// one list is refused by another).
const (
	listHandovers CaseSort = 'H'
	listCohorts   CaseSort = 'Q'
)

// pageBuilder collects the rows of one page in walk order. Keys must stay valid until
// finish (inside the read transaction that gave them, or owned by the caller).
type pageBuilder[T any] struct {
	tag           CaseSort
	desc          bool
	limit         int
	after, before bool
	rows          []T
	keys          [][]byte
	more          bool
}

// newPageBuilder starts a page of limit rows (DefaultPageSize when 0, at most
// MaxPageSize); after and before say whether the walk started from a next or a
// previous cursor.
func newPageBuilder[T any](tag CaseSort, desc bool, limit int, after, before string) *pageBuilder[T] {
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	return &pageBuilder[T]{tag: tag, desc: desc, limit: limit, after: after != "", before: before != "",
		rows: make([]T, 0, limit), keys: make([][]byte, 0, limit)}
}

// backward: the walk reads the list's order backwards (a descending order, or the
// page before a cursor, but not both).
func (p *pageBuilder[T]) backward() bool { return p.desc != p.before }

// full reports whether the page already holds its rows; a match found then means
// there is a page after, and the walk stops.
func (p *pageBuilder[T]) full() bool {
	if len(p.rows) == p.limit {
		p.more = true
		return true
	}
	return false
}

// add appends a matching row with its key (after the list's prefix).
func (p *pageBuilder[T]) add(k []byte, row T) {
	p.rows = append(p.rows, row)
	p.keys = append(p.keys, k)
}

// finish puts the rows in the list's order and gives the page's cursors.
func (p *pageBuilder[T]) finish() (rows []T, next, prev string) {
	if len(p.keys) == 0 {
		return p.rows, "", ""
	}
	first, last := p.keys[0], p.keys[len(p.keys)-1]
	if p.before {
		// Read backwards from the cursor: put the page back in its order.
		for i, j := 0, len(p.rows)-1; i < j; i, j = i+1, j-1 {
			p.rows[i], p.rows[j] = p.rows[j], p.rows[i]
		}
		first, last = last, first
		next = encodeCursor(p.tag, p.desc, last)
		if p.more {
			prev = encodeCursor(p.tag, p.desc, first)
		}
		return p.rows, next, prev
	}
	if p.more {
		next = encodeCursor(p.tag, p.desc, last)
	}
	if p.after {
		prev = encodeCursor(p.tag, p.desc, first)
	}
	return p.rows, next, prev
}

// rangesWalk walks several key ranges of one bucket as one list: base ‖ part for each
// part, in the order given (reversed when backward), each part of the same length.
// from is a key after base (as a cursor holds it): the walk starts just past it, in
// its range, and skips the ranges before it (after it, backwards).
type rangesWalk struct {
	walks []*prefixWalk
	i     int
}

func newRangesWalk(c *bolt.Cursor, base []byte, parts [][]byte, from []byte, backward bool) *rangesWalk {
	w := &rangesWalk{}
	order := slices.Clone(parts)
	if backward {
		slices.Reverse(order)
	}
	for _, part := range order {
		var start []byte
		if from != nil {
			head := from[:min(len(part), len(from))]
			switch d := bytes.Compare(part, head); {
			case d == 0:
				start = from[len(head):]
			case (d < 0) != backward:
				continue // a range wholly before the cursor (after it, backwards)
			}
		}
		// The walks share the cursor: each seeks it afresh when it starts.
		w.walks = append(w.walks, newPrefixWalk(c, append(bytes.Clone(base), part...), start, backward))
	}
	return w
}

func (w *rangesWalk) first() ([]byte, []byte) {
	for w.i = 0; w.i < len(w.walks); w.i++ {
		if k, v := w.walks[w.i].first(); k != nil {
			return k, v
		}
	}
	return nil, nil
}

func (w *rangesWalk) next() ([]byte, []byte) {
	if w.i >= len(w.walks) {
		return nil, nil
	}
	if k, v := w.walks[w.i].next(); k != nil {
		return k, v
	}
	for w.i++; w.i < len(w.walks); w.i++ {
		if k, v := w.walks[w.i].first(); k != nil {
			return k, v
		}
	}
	return nil, nil
}
