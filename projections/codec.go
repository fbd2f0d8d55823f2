package projections

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gateledger/gateledger/aggregates"
)

// ErrNotFound matches *NotFoundError under errors.Is.
var ErrNotFound = errors.New("not found")

// NotFoundError says a read model has nothing under a key: the person has no events
// yet, or the projection has not reached them (use Runner.WaitFor for read-your-writes).
type NotFoundError struct {
	// Projection is the read model asked.
	Projection string
	// Key is what was looked up (a NOMS number, a stream).
	Key string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("projection %s: %s not found", e.Projection, e.Key)
}

// Is matches ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ErrCorruptRow: a stored row could not be decoded. It means the state file was
// damaged or written by other code; rebuilding the projection repairs it.
var ErrCorruptRow = errors.New("corrupt projection row")

// wbuf appends the compact binary encoding the read models store. The encoding is
// deliberately simple (varints and length-prefixed bytes) so that a row decodes in
// well under a microsecond; JSON would be ten to fifty times slower on the hot queries.
type wbuf []byte

func (w *wbuf) u8(v byte)        { *w = append(*w, v) }
func (w *wbuf) uvar(v uint64)    { *w = binary.AppendUvarint(*w, v) }
func (w *wbuf) svar(v int64)     { *w = binary.AppendVarint(*w, v) }
func (w *wbuf) u64(v uint64)     { *w = binary.BigEndian.AppendUint64(*w, v) }
func (w *wbuf) str(s string)     { w.uvar(uint64(len(s))); *w = append(*w, s...) }
func (w *wbuf) time(t time.Time) { w.svar(timeNanos(t)) }
func (w *wbuf) date(d aggregates.Date) {
	if d.IsZero() {
		w.svar(0)
		return
	}
	w.svar(d.Time().UnixNano())
}

func (w *wbuf) bool(v bool) {
	if v {
		w.u8(1)
	} else {
		w.u8(0)
	}
}

// zeroUnix is the zero time's Unix seconds: xtime stores seconds from it, so the zero
// time is (0, 0) and any other instant, in any year, reads back exactly (in UTC).
const zeroUnix = -62135596800

func (w *wbuf) xtime(t time.Time) {
	if t.IsZero() {
		w.svar(0)
		w.uvar(0)
		return
	}
	w.svar(t.Unix() - zeroUnix)
	w.uvar(uint64(t.Nanosecond()))
}

// xdate stores every field of d, so any Date reads back exactly.
func (w *wbuf) xdate(d aggregates.Date) {
	w.svar(int64(d.Year))
	w.svar(int64(d.Month))
	w.svar(int64(d.Day))
}

// timeNanos is t as Unix nanoseconds, 0 for the zero time. (The Unix epoch itself
// would read back as the zero time; no ledger fact happened then.)
func timeNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func nanosTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// rbuf reads what wbuf wrote. The first short read sets err and every later read
// returns zero values, so decoders check err once at the end.
type rbuf struct {
	b   []byte
	err error
}

func (r *rbuf) fail() {
	if r.err == nil {
		r.err = fmt.Errorf("%w: truncated", ErrCorruptRow)
	}
	r.b = nil
}

func (r *rbuf) u8() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *rbuf) uvar() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *rbuf) svar() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *rbuf) u64() uint64 {
	if len(r.b) < 8 {
		r.fail()
		return 0
	}
	v := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

// raw returns the next length-prefixed bytes without copying: valid only while the
// transaction that read the row is open.
func (r *rbuf) raw() []byte {
	n := r.uvar()
	if uint64(len(r.b)) < n {
		r.fail()
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *rbuf) str() string { return string(r.raw()) }

func (r *rbuf) time() time.Time { return nanosTime(r.svar()) }

func (r *rbuf) bool() bool { return r.u8() != 0 }

func (r *rbuf) xtime() time.Time {
	sec, nsec := r.svar(), r.uvar()
	if sec == 0 && nsec == 0 {
		return time.Time{}
	}
	return time.Unix(sec+zeroUnix, int64(nsec)).UTC()
}

func (r *rbuf) xdate() aggregates.Date {
	return aggregates.Date{Year: int(r.svar()), Month: time.Month(r.svar()), Day: int(r.svar())}
}

// count reads an element count, failing when it exceeds the bytes left (each element
// takes at least one byte), so a corrupt row cannot ask for a huge allocation.
func (r *rbuf) count() int {
	n := r.uvar()
	if n > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *rbuf) date() aggregates.Date {
	n := r.svar()
	if n == 0 {
		return aggregates.Date{}
	}
	return aggregates.DateOf(time.Unix(0, n).UTC())
}

// key joins parts with a 0 byte, which no NOMS number, organisation code or stream
// name contains, so that a prefix scan for one part never matches a longer one.
func key(parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	k := make([]byte, 0, n+8)
	for _, p := range parts {
		k = append(k, p...)
		k = append(k, 0)
	}
	return k
}

// appendFill is the fill percent of buckets whose keys mostly grow within a prefix
// (a stream's revisions, a person's history): bbolt's default of one half leaves every
// split page half empty for good, which doubles the file and what a rebuild writes.
const appendFill = 0.9

// Chunks keep a run of consecutive revisions of one stream (or one person) in one value:
// key name ‖ 0x00 ‖ U64(chunk), value length-prefixed entries (a uvarint length, then the
// entry) in revision order. Appending to a chunk reads and writes it once per batch,
// where a key per entry would be an insert per event.

// chunkKey appends the key of chunk of name to k.
func chunkKey(k []byte, name string, chunk uint64) []byte {
	k = append(k, name...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, chunk)
}

// appendChunk appends entries, already length-prefixed, to the stored chunk of name in b.
// Key and value come from a, as bbolt keeps them until the transaction ends.
func appendChunk(b *bolt.Bucket, a *arena, name string, chunk uint64, entries []byte) error {
	k := a.take(chunkKey(a.free(len(name)+9), name, chunk))
	old := b.Get(k)
	v := a.free(len(old) + len(entries))
	v = append(append(v, old...), entries...)
	return b.Put(k, a.take(v))
}

// eachEntry calls fn with every entry of a stored chunk, in order.
func eachEntry(chunk []byte, fn func(entry []byte) error) error {
	for len(chunk) > 0 {
		n, w := binary.Uvarint(chunk)
		if w <= 0 || n > uint64(len(chunk)-w) {
			return fmt.Errorf("%w: chunk truncated", ErrCorruptRow)
		}
		if err := fn(chunk[w : w+int(n)]); err != nil {
			return err
		}
		chunk = chunk[w+int(n):]
	}
	return nil
}

// subBucket returns the named sub-bucket of b, creating it when b is writable.
func subBucket(b *bolt.Bucket, name []byte) (*bolt.Bucket, error) {
	if s := b.Bucket(name); s != nil {
		return s, nil
	}
	if !b.Writable() {
		return nil, nil
	}
	s, err := b.CreateBucket(name)
	if err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", name, err)
	}
	return s, nil
}

// scanPrefix calls fn for every key of b starting with prefix, in key order.
func scanPrefix(b *bolt.Bucket, prefix []byte, fn func(k, v []byte) error) error {
	if b == nil {
		return nil
	}
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && len(k) >= len(prefix) && string(k[:len(prefix)]) == string(prefix); k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// projectionOf finds the projection registered under name in the runner, so that a
// query can use the policy it was built with.
func projectionOf[T Projection](r *Runner, name string) (T, error) {
	var zero T
	s, ok := r.byName[name]
	if !ok {
		return zero, fmt.Errorf("%w: %q", ErrUnknownProjection, name)
	}
	p, ok := s.p.(T)
	if !ok {
		return zero, fmt.Errorf("%w: %q is a %T", ErrUnknownProjection, name, s.p)
	}
	return p, nil
}

// arena hands out byte slices for keys and values that must stay valid until the
// transaction that stores them ends (bbolt keeps the slices given to Put), carving them
// from large blocks instead of allocating one per row. A slice is never handed out
// twice, so nothing is reused while bbolt may still read it.
type arena struct{ block []byte }

const arenaBlock = 64 << 10

// free returns an empty slice with room for at least n bytes to append to; pass the
// result to take.
func (a *arena) free(n int) []byte {
	if cap(a.block)-len(a.block) < n {
		a.block = make([]byte, 0, max(arenaBlock, n))
	}
	return a.block[len(a.block):len(a.block)]
}

// take marks b, appended to a slice from free, as used and returns it with its
// capacity capped. If appending outgrew the free room, b is already its own allocation.
func (a *arena) take(b []byte) []byte {
	if len(b) <= cap(a.block)-len(a.block) {
		a.block = a.block[:len(a.block)+len(b)]
	}
	return b[:len(b):len(b)]
}
