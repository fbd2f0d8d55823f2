package readmodel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gateledger/gateledger/aggregates"
)

// ErrCorruptRow: a stored row could not be decoded. It means the state file was
// damaged or written by other code; rebuilding the projection repairs it.
var ErrCorruptRow = errors.New("corrupt projection row")

// Writer appends the compact binary encoding the read models store. The encoding is
// deliberately simple (varints and length-prefixed bytes) so that a row decodes in
// well under a microsecond; JSON would be ten to fifty times slower on the hot queries.
type Writer []byte

func (w *Writer) U8(v byte)        { *w = append(*w, v) }
func (w *Writer) Uvar(v uint64)    { *w = binary.AppendUvarint(*w, v) }
func (w *Writer) Svar(v int64)     { *w = binary.AppendVarint(*w, v) }
func (w *Writer) U64(v uint64)     { *w = binary.BigEndian.AppendUint64(*w, v) }
func (w *Writer) Str(s string)     { w.Uvar(uint64(len(s))); *w = append(*w, s...) }
func (w *Writer) Time(t time.Time) { w.Svar(TimeNanos(t)) }
func (w *Writer) Date(d aggregates.Date) {
	if d.IsZero() {
		w.Svar(0)
		return
	}
	w.Svar(d.Time().UnixNano())
}

func (w *Writer) Bool(v bool) {
	if v {
		w.U8(1)
	} else {
		w.U8(0)
	}
}

// zeroUnix is the zero time's Unix seconds: xtime stores seconds from it, so the zero
// time is (0, 0) and any other instant, in any year, reads back exactly (in UTC).
const zeroUnix = -62135596800

func (w *Writer) XTime(t time.Time) {
	if t.IsZero() {
		w.Svar(0)
		w.Uvar(0)
		return
	}
	w.Svar(t.Unix() - zeroUnix)
	w.Uvar(uint64(t.Nanosecond()))
}

// xdate stores every field of d, so any Date reads back exactly.
func (w *Writer) XDate(d aggregates.Date) {
	w.Svar(int64(d.Year))
	w.Svar(int64(d.Month))
	w.Svar(int64(d.Day))
}

// TimeNanos is t as Unix nanoseconds, 0 for the zero time. (The Unix epoch itself
// would read back as the zero time; no ledger fact happened then.)
func TimeNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func NanosTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// Reader reads what Writer wrote. The first short read sets err and every later read
// returns zero values, so decoders check err once at the end.
type Reader struct {
	B   []byte
	Err error
}

func (r *Reader) Fail() {
	if r.Err == nil {
		r.Err = fmt.Errorf("%w: truncated", ErrCorruptRow)
	}
	r.B = nil
}

func (r *Reader) U8() byte {
	if len(r.B) < 1 {
		r.Fail()
		return 0
	}
	v := r.B[0]
	r.B = r.B[1:]
	return v
}

func (r *Reader) Uvar() uint64 {
	v, n := binary.Uvarint(r.B)
	if n <= 0 {
		r.Fail()
		return 0
	}
	r.B = r.B[n:]
	return v
}

func (r *Reader) Svar() int64 {
	v, n := binary.Varint(r.B)
	if n <= 0 {
		r.Fail()
		return 0
	}
	r.B = r.B[n:]
	return v
}

func (r *Reader) U64() uint64 {
	if len(r.B) < 8 {
		r.Fail()
		return 0
	}
	v := binary.BigEndian.Uint64(r.B)
	r.B = r.B[8:]
	return v
}

// ID reads the next 16 bytes into id: an event's id, stored as it is.
func (r *Reader) ID(id *[16]byte) {
	if len(r.B) < 16 {
		r.Fail()
		return
	}
	copy(id[:], r.B[:16])
	r.B = r.B[16:]
}

// raw returns the next length-prefixed bytes without copying: valid only while the
// transaction that read the row is open.
func (r *Reader) Raw() []byte {
	n := r.Uvar()
	if uint64(len(r.B)) < n {
		r.Fail()
		return nil
	}
	v := r.B[:n:n]
	r.B = r.B[n:]
	return v
}

func (r *Reader) Str() string { return string(r.Raw()) }

func (r *Reader) Time() time.Time { return NanosTime(r.Svar()) }

func (r *Reader) Bool() bool { return r.U8() != 0 }

func (r *Reader) XTime() time.Time {
	sec, nsec := r.Svar(), r.Uvar()
	if sec == 0 && nsec == 0 {
		return time.Time{}
	}
	return time.Unix(sec+zeroUnix, int64(nsec)).UTC()
}

func (r *Reader) XDate() aggregates.Date {
	return aggregates.Date{Year: int(r.Svar()), Month: time.Month(r.Svar()), Day: int(r.Svar())}
}

// count reads an element count, failing when it exceeds the bytes left (each element
// takes at least one byte), so a corrupt row cannot ask for a huge allocation.
func (r *Reader) Count() int {
	n := r.Uvar()
	if n > uint64(len(r.B)) {
		r.Fail()
		return 0
	}
	return int(n)
}

func (r *Reader) Date() aggregates.Date {
	n := r.Svar()
	if n == 0 {
		return aggregates.Date{}
	}
	return aggregates.DateOf(time.Unix(0, n).UTC())
}

// Key joins parts with a 0 byte, which no NOMS number, organisation code or stream
// name contains, so that a prefix scan for one part never matches a longer one.
func Key(parts ...string) []byte {
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

// AppendFill is the fill percent of buckets whose keys mostly grow within a prefix
// (a stream's revisions, a person's history): bbolt's default of one half leaves every
// split page half empty for good, which doubles the file and what a rebuild writes.
const AppendFill = 0.9

// Chunks keep a run of consecutive revisions of one stream (or one person) in one value:
// key name ‖ 0x00 ‖ U64(chunk), value length-prefixed entries (a uvarint length, then the
// entry) in revision order. Appending to a chunk reads and writes it once per batch,
// where a key per entry would be an insert per event.

// ChunkKey appends the key of chunk of name to k.
func ChunkKey(k []byte, name string, chunk uint64) []byte {
	k = append(k, name...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, chunk)
}

// AppendChunk appends entries, already length-prefixed, to the stored chunk of name in b.
// Key and value come from a, as bbolt keeps them until the transaction ends.
func AppendChunk(b *bolt.Bucket, a *Arena, name string, chunk uint64, entries []byte) error {
	k := a.Take(ChunkKey(a.Free(len(name)+9), name, chunk))
	old := b.Get(k)
	v := a.Free(len(old) + len(entries))
	v = append(append(v, old...), entries...)
	return b.Put(k, a.Take(v))
}

// EachEntry calls fn with every entry of a stored chunk, in order.
func EachEntry(chunk []byte, fn func(entry []byte) error) error {
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

// SubBucket returns the named sub-bucket of b, creating it when b is writable.
func SubBucket(b *bolt.Bucket, name []byte) (*bolt.Bucket, error) {
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

// ScanPrefix calls fn for every key of b starting with prefix, in key order.
func ScanPrefix(b *bolt.Bucket, prefix []byte, fn func(k, v []byte) error) error {
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

// ProjectionOf finds the projection registered under name in the runner, so that a
// query can use the policy it was built with.
func ProjectionOf[T Projection](r *Runner, name string) (T, error) {
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

// Arena hands out byte slices for keys and values that must stay valid until the
// transaction that stores them ends (bbolt keeps the slices given to Put), carving them
// from large blocks instead of allocating one per row. A slice is never handed out
// twice, so nothing is reused while bbolt may still read it.
type Arena struct{ block []byte }

const arenaBlock = 64 << 10

// free returns an empty slice with room for at least n bytes to append to; pass the
// result to take.
func (a *Arena) Free(n int) []byte {
	if cap(a.block)-len(a.block) < n {
		a.block = make([]byte, 0, max(arenaBlock, n))
	}
	return a.block[len(a.block):len(a.block)]
}

// take marks b, appended to a slice from free, as used and returns it with its
// capacity capped. If appending outgrew the free room, b is already its own allocation.
func (a *Arena) Take(b []byte) []byte {
	if len(b) <= cap(a.block)-len(a.block) {
		a.block = a.block[:len(a.block)+len(b)]
	}
	return b[:len(b):len(b)]
}
