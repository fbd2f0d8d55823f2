package projections

import (
	"encoding/binary"
	"math"

	bolt "go.etcd.io/bbolt"

	"github.com/gateledger/gateledger/projections/readmodel"
)

// The caseload's secondary index: the orders of CaseloadPage other than by prison
// number (which is the order of the rows' own keys).
//
// Storage: sub-bucket "sorted", key org ‖ 0x00 ‖ sort ‖ U64(value, sign bit flipped so
// that negative values order first) ‖ NOMS, empty value. A row with no value for the
// order (no release date, no open deadline) is stored with the largest value, so it
// comes last in ascending order. The index is written by reindexCase in the same bbolt
// transaction as the row it indexes, so the two never disagree (the projection's
// checkpoint covers both).
//
// Only values fixed when the row is written can be indexed: the release date, and the
// due times of the open deadlines (which of them is earliest does not depend on now;
// whether it is past does, and is decided while scanning).

var caseSorted = []byte("sorted")

// caseSortValue is the value of a stored row (encodeCaseRow) in one order.
func caseSortValue(s CaseSort, v []byte) (int64, bool) {
	if len(v) < caseHeaderLen || v[0] != caseRowVersion {
		return 0, false
	}
	be := binary.BigEndian
	var x int64
	switch s {
	case SortReleaseDate:
		x = int64(be.Uint64(v[6:]))
	case SortDeadline:
		var t [6]int64
		for i := range t {
			t[i] = int64(be.Uint64(v[14+8*i:]))
		}
		rest := v[caseHeaderLen:]
		for range caseRowStrings {
			if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
				return 0, false
			}
			rest = rest[1+int(rest[0]):]
		}
		n, w := binary.Uvarint(rest)
		if w <= 0 || uint64(len(rest)-w) < 4*n {
			return 0, false
		}
		x = caseNextDue(be.Uint16(v[2:]), t, rest[w:], n)
	default:
		return 0, false
	}
	if x == 0 {
		x = math.MaxInt64
	}
	return x, true
}

// caseNextDue is the earliest open deadline of a stored row in Unix nanoseconds, 0 when
// none: the screening and plan while in custody, the open handover's decision, the
// earliest open action (due at the end of its day, UTC, as decode counts it overdue
// from the next day), and the end of supervision after release. A closed case has
// none. t are the row's six times (screening, plan, window, supervision, handover,
// released); actions the due days that follow the strings, n of them, sorted.
func caseNextDue(flags uint16, t [6]int64, actions []byte, n uint64) int64 {
	if flags&flagClosed != 0 {
		return 0
	}
	var best int64
	take := func(x int64) {
		if x != 0 && (best == 0 || x < best) {
			best = x
		}
	}
	if flags&flagInCustody != 0 {
		take(t[0])
		take(t[1])
	}
	if flags&flagHandoverOpen != 0 {
		take(t[4])
	}
	if flags&flagReleased != 0 {
		take(t[3])
	}
	if n > 0 && len(actions) >= 4 {
		day := int64(int32(binary.BigEndian.Uint32(actions)))
		take((day + 1) * 86400 * 1e9)
	}
	return best
}

// caseSortKey appends the index key of noms in order s with value x to k.
func caseSortKey(k []byte, org string, s CaseSort, x int64, noms string) []byte {
	k = append(k, org...)
	k = append(k, 0, byte(s))
	k = binary.BigEndian.AppendUint64(k, uint64(x)^(1<<63))
	return append(k, noms...)
}

// indexedSorts are the orders the "sorted" bucket keeps.
var indexedSorts = [...]CaseSort{SortReleaseDate, SortDeadline}

// reindexCase moves noms's entries in org's index from where the stored row old put
// them to where the row new puts them; old or new is nil when the row is being
// written for the first time or deleted. The values are read from old before
// anything is written, as bbolt's returned slices may not outlive a write.
func reindexCase(b *bolt.Bucket, org, noms string, old, new []byte) error {
	var was, is [len(indexedSorts)]int64
	var hadOld, hasNew [len(indexedSorts)]bool
	for i, s := range indexedSorts {
		if old != nil {
			was[i], hadOld[i] = caseSortValue(s, old)
		}
		if new != nil {
			is[i], hasNew[i] = caseSortValue(s, new)
		}
	}
	idx, err := readmodel.SubBucket(b, caseSorted)
	if err != nil {
		return err
	}
	var k []byte
	for i, s := range indexedSorts {
		if hadOld[i] && hasNew[i] && was[i] == is[i] {
			continue
		}
		if hadOld[i] {
			if err := idx.Delete(caseSortKey(k[:0], org, s, was[i], noms)); err != nil {
				return err
			}
		}
		if hasNew[i] {
			// bbolt keeps the key until the transaction ends: a fresh slice each time.
			if err := idx.Put(caseSortKey(nil, org, s, is[i], noms), []byte{}); err != nil {
				return err
			}
		}
	}
	return nil
}
