package projections

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gateledger/gateledger/projections/readmodel"
)

// One page of a caseload, for lists at national size: an NPS region holds tens of
// thousands of cases, and a page must not cost what the whole caseload does.
//
// The query walks the organisation's rows in the order asked for (the rows' own keys
// for prison number; the "sorted" index of caseload_index.go for release date and
// deadline), from just after the cursor, applies the filters to each row as it goes,
// and stops at the first match after the page is full (that match only says there is
// a next page). A page of unfiltered, or lightly filtered, rows therefore reads about
// Limit rows whatever the size of the caseload. A filter few rows match reads more:
// at worst every row of the organisation once, each tested on its raw bytes first
// (closed, number search) and decoded only when those pass.

// CaseSort is an order of a caseload page.
type CaseSort byte

// Orders. The values are part of index keys and cursors.
const (
	// SortNOMS orders by prison number (the rows' key order).
	SortNOMS CaseSort = 'N'
	// SortReleaseDate orders by displayed release date; unknown dates last.
	SortReleaseDate CaseSort = 'R'
	// SortDeadline orders by the next open deadline (CaseRow.NextDue); none last.
	SortDeadline CaseSort = 'D'
)

// Page sizes.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// DeadlineFilter selects rows by their next open deadline.
type DeadlineFilter struct {
	// Overdue: the next deadline has passed.
	Overdue bool
	// Within, when positive: the next deadline is still to come and falls within it.
	Within time.Duration
}

// CaseFilter selects rows of a caseload page; the zero value selects every open case.
type CaseFilter struct {
	// Stages, when any, keep rows in one of them.
	Stages []Stage
	// Attention, when not zero, keeps rows with at least one of its reasons.
	Attention Attention
	// Deadline keeps rows by their next deadline.
	Deadline DeadlineFilter
	// Search keeps rows whose prison number or CRN contains it (case does not
	// matter). The ledger holds no names: numbers are what can be searched.
	Search string
	// IncludeClosed shows closed cases, hidden otherwise (also shown when Stages
	// names StageClosed).
	IncludeClosed bool
}

// CaseQuery asks for one page of an organisation's caseload.
type CaseQuery struct {
	Org    string
	Now    time.Time
	Filter CaseFilter
	Sort   CaseSort // SortNOMS when zero
	Desc   bool
	// Limit is the page size: DefaultPageSize when zero, at most MaxPageSize.
	Limit int
	// After (CasePage.Next) asks for the rows after a page; Before
	// (CasePage.Prev) for the rows before one. At most one is set.
	After, Before string
}

// CasePage is one page of rows, in the order asked for.
type CasePage struct {
	Rows []CaseRow
	// Next and Prev are the cursors of the following and preceding pages, "" when
	// there is none. They are opaque, and valid only with the same order.
	Next, Prev string
}

// ErrBadCursor: a cursor that is not one this query gave out (or not for this order).
var ErrBadCursor = errors.New("not a cursor of this list")

const cursorVersion = 1

// encodeCursor wraps the key of a row (after the organisation's prefix) with its order.
func encodeCursor(s CaseSort, desc bool, k []byte) string {
	b := make([]byte, 0, 3+len(k))
	d := byte(0)
	if desc {
		d = 1
	}
	b = append(append(b, cursorVersion, byte(s), d), k...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c string, s CaseSort, desc bool) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	d := byte(0)
	if desc {
		d = 1
	}
	if err != nil || len(b) < 4 || b[0] != cursorVersion || b[1] != byte(s) || b[2] != d {
		return nil, ErrBadCursor
	}
	return b[3:], nil
}

// ValidSort reports whether s names an order.
func ValidSort(s CaseSort) bool {
	return s == SortNOMS || s == SortReleaseDate || s == SortDeadline
}

// CaseloadPage returns one page of the people q.Org can see, filtered and ordered as
// asked, with stage and attention decided at q.Now.
func CaseloadPage(r *readmodel.Runner, q CaseQuery) (CasePage, error) {
	if q.Sort == 0 {
		q.Sort = SortNOMS
	}
	if !ValidSort(q.Sort) {
		return CasePage{}, fmt.Errorf("caseload order %q: %w", q.Sort, ErrBadCursor)
	}
	if q.Limit <= 0 {
		q.Limit = DefaultPageSize
	}
	q.Limit = min(q.Limit, MaxPageSize)
	if q.After != "" && q.Before != "" {
		return CasePage{}, fmt.Errorf("after and before: %w", ErrBadCursor)
	}
	var from []byte
	var err error
	switch {
	case q.After != "":
		from, err = decodeCursor(q.After, q.Sort, q.Desc)
	case q.Before != "":
		from, err = decodeCursor(q.Before, q.Sort, q.Desc)
	}
	if err != nil {
		return CasePage{}, err
	}
	page := CasePage{Rows: []CaseRow{}}
	err = r.View(CaseloadName, func(b *bolt.Bucket) error {
		var err error
		page, err = scanCases(b, q, from)
		return err
	})
	return page, err
}

// scanCases reads one page inside a read transaction; from is the decoded cursor.
func scanCases(b *bolt.Bucket, q CaseQuery, from []byte) (CasePage, error) {
	pb := newPageBuilder[CaseRow](q.Sort, q.Desc, q.Limit, q.After, q.Before)
	rows := b.Bucket(caseRows)
	if rows == nil {
		return CasePage{Rows: pb.rows}, nil
	}
	rowPrefix := readmodel.Key(q.Org)
	src, prefix := rows, rowPrefix
	if q.Sort != SortNOMS {
		if src = b.Bucket(caseSorted); src == nil {
			return CasePage{Rows: pb.rows}, nil
		}
		prefix = append(bytes.Clone(rowPrefix), byte(q.Sort))
	}
	f := newCaseMatcher(q.Filter, q.Now)
	cq := newCaseQuery(q.Now, q.Limit+1)
	var rk []byte // the row key of an index entry
	var scratch CaseRow
	walk := newPrefixWalk(src.Cursor(), prefix, from, pb.backward())
	for k, v := walk.first(); k != nil; k, v = walk.next() {
		noms := k[len(prefix):]
		if q.Sort != SortNOMS {
			if len(noms) < 8 {
				return CasePage{}, fmt.Errorf("%w: caseload index key", readmodel.ErrCorruptRow)
			}
			noms = noms[8:]
			rk = append(append(rk[:0], rowPrefix...), noms...)
			if v = rows.Get(rk); v == nil {
				return CasePage{}, fmt.Errorf("%w: caseload index names %s, which has no row", readmodel.ErrCorruptRow, noms)
			}
		}
		if !f.rawMatch(noms, v) {
			continue
		}
		arena, ends := len(cq.arena), len(cq.ends)
		scratch = CaseRow{}
		if err := cq.decode(&scratch, noms, v); err != nil {
			return CasePage{}, fmt.Errorf("caseload of %s: %w", q.Org, err)
		}
		if !f.match(&scratch) || pb.full() {
			cq.arena, cq.ends = cq.arena[:arena], cq.ends[:ends]
			if pb.more {
				break
			}
			continue
		}
		pb.add(k[len(prefix):], scratch)
	}
	cq.finish(pb.rows)
	var page CasePage
	page.Rows, page.Next, page.Prev = pb.finish()
	return page, nil
}

// prefixWalk walks the keys of a bucket under a prefix, forwards or backwards,
// starting just past from (a key after the prefix) or at the end.
type prefixWalk struct {
	c        *bolt.Cursor
	prefix   []byte
	from     []byte
	backward bool
}

func newPrefixWalk(c *bolt.Cursor, prefix, from []byte, backward bool) *prefixWalk {
	return &prefixWalk{c: c, prefix: prefix, from: from, backward: backward}
}

func (w *prefixWalk) in(k, v []byte) ([]byte, []byte) {
	if k == nil || !bytes.HasPrefix(k, w.prefix) {
		return nil, nil
	}
	return k, v
}

func (w *prefixWalk) first() ([]byte, []byte) {
	start := append(bytes.Clone(w.prefix), w.from...)
	if !w.backward {
		k, v := w.c.Seek(start)
		if w.from != nil && bytes.Equal(k, start) {
			k, v = w.c.Next()
		}
		return w.in(k, v)
	}
	if w.from == nil {
		// Past the last key under the prefix: the prefix with its last byte raised
		// (prefixes end in a 0 separator or a sort byte, never 0xff).
		start[len(start)-1]++
	}
	k, _ := w.c.Seek(start)
	var v []byte
	if k == nil {
		k, v = w.c.Last()
	} else {
		k, v = w.c.Prev()
	}
	return w.in(k, v)
}

func (w *prefixWalk) next() ([]byte, []byte) {
	if w.backward {
		return w.in(w.c.Prev())
	}
	return w.in(w.c.Next())
}

// caseMatcher applies a CaseFilter: first to a row's raw bytes (cheap, no decoding),
// then to the decoded row.
type caseMatcher struct {
	f      CaseFilter
	closed bool
	search []byte
	now    time.Time
	within int64 // Unix ns: the end of the deadline window, 0 for none
}

func newCaseMatcher(f CaseFilter, now time.Time) *caseMatcher {
	m := &caseMatcher{f: f, now: now, closed: f.IncludeClosed}
	for _, s := range f.Stages {
		if s == StageClosed {
			m.closed = true
		}
	}
	if s := strings.TrimSpace(f.Search); s != "" {
		m.search = []byte(strings.ToUpper(s))
	}
	if f.Deadline.Within > 0 {
		m.within = now.Add(f.Deadline.Within).UnixNano()
		if m.within < 0 {
			m.within = math.MaxInt64
		}
	}
	return m
}

// rawMatch tests what needs no decoding: closed, and the number search (NOMS
// numbers and CRNs are stored in upper case).
func (m *caseMatcher) rawMatch(noms, v []byte) bool {
	if len(v) < caseHeaderLen {
		return true // decode reports it
	}
	if !m.closed && binary.BigEndian.Uint16(v[2:])&flagClosed != 0 {
		return false
	}
	if m.search == nil || bytes.Contains(noms, m.search) {
		return true
	}
	rest := v[caseHeaderLen:]
	if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
		return true
	}
	return bytes.Contains(bytes.ToUpper(rest[1:1+int(rest[0])]), m.search)
}

// match tests what depends on now.
func (m *caseMatcher) match(c *CaseRow) bool {
	if len(m.f.Stages) > 0 {
		ok := false
		for _, s := range m.f.Stages {
			ok = ok || s == c.Stage
		}
		if !ok {
			return false
		}
	}
	if m.f.Attention != 0 && c.Attention&m.f.Attention == 0 {
		return false
	}
	d := m.f.Deadline
	if d.Overdue || d.Within > 0 {
		if c.NextDue.IsZero() {
			return false
		}
		overdue := c.NextDue.Before(m.now)
		if d.Overdue && d.Within <= 0 {
			return overdue
		}
		in := !overdue && c.NextDue.UnixNano() <= m.within
		return in || (d.Overdue && overdue)
	}
	return true
}

// ParseStage reads a stage name as the API writes it.
func ParseStage(s string) (Stage, bool) {
	for _, x := range []Stage{StageCustody, StagePreRelease, StageReleased, StageClosed, StageAtLarge, StageDetainedElsewhere} {
		if string(x) == s {
			return x, true
		}
	}
	return "", false
}

// Stages lists every stage, in journey order.
func Stages() []Stage {
	return []Stage{StageCustody, StagePreRelease, StageReleased, StageAtLarge, StageDetainedElsewhere, StageClosed}
}

// ParseAttention reads a reason for attention as Attention.Reasons writes it.
func ParseAttention(s string) (Attention, bool) {
	for i, n := range attentionNames {
		if n == s {
			return 1 << i, true
		}
	}
	return 0, false
}

// AttentionReasons lists every reason's name, in a fixed order.
func AttentionReasons() []string { return slices.Clone(attentionNames[:]) }

// CaseloadCount is how many rows org's caseload holds, closed cases included, read
// from the kept count rather than the rows.
func CaseloadCount(r *readmodel.Runner, org string) (int, error) {
	n := 0
	err := r.View(CaseloadName, func(b *bolt.Bucket) error {
		if counts := b.Bucket(caseCounts); counts != nil {
			if v := counts.Get([]byte(org)); len(v) == 8 {
				n = int(binary.BigEndian.Uint64(v))
			}
		}
		return nil
	})
	return n, err
}

// CaseloadRow returns the row of noms in org's caseload, with ok false when org does
// not see the person: one lookup, for the live page's refresh of one row.
func CaseloadRow(r *readmodel.Runner, org, noms string, now time.Time) (row CaseRow, ok bool, err error) {
	err = r.View(CaseloadName, func(b *bolt.Bucket) error {
		rows := b.Bucket(caseRows)
		if rows == nil {
			return nil
		}
		v := rows.Get(append(readmodel.Key(org), noms...))
		if v == nil {
			return nil
		}
		q := newCaseQuery(now, 1)
		if err := q.decode(&row, []byte(noms), v); err != nil {
			return fmt.Errorf("caseload of %s: %w", org, err)
		}
		rs := []CaseRow{row}
		q.finish(rs)
		row, ok = rs[0], true
		return nil
	})
	return row, ok, err
}

// Matches reports whether a decoded row passes f at now: the same test CaseloadPage
// applies while scanning, for a row read on its own (the live page's refresh).
func (f CaseFilter) Matches(c CaseRow, now time.Time) bool {
	m := newCaseMatcher(f, now)
	if !m.closed && c.Stage == StageClosed {
		return false
	}
	if m.search != nil && !bytes.Contains([]byte(c.NOMS), m.search) && !bytes.Contains([]byte(strings.ToUpper(c.CRN)), m.search) {
		return false
	}
	return m.match(&c)
}

// Key is where row c falls in order s, as a string that compares as the order does
// (the index's value in hex, then the prison number): a page marks each row with it,
// so that a row changed live can be placed without asking the server again.
func (s CaseSort) Key(c CaseRow) string {
	var x int64
	switch s {
	case SortReleaseDate:
		x = int64(dateDays(c.ReleaseDate))
	case SortDeadline:
		x = readmodel.TimeNanos(c.NextDue)
	default:
		return c.NOMS
	}
	if x == 0 {
		x = math.MaxInt64
	}
	return fmt.Sprintf("%016x.%s", uint64(x)^(1<<63), c.NOMS)
}
