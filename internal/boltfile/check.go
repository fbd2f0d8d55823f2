package boltfile

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// ErrDamaged matches every *DamageError: the file is not whole.
var ErrDamaged = errors.New("file is damaged")

// DamageError says what is wrong with a file, in words an operator can act on.
type DamageError struct {
	// Path is the file checked.
	Path string
	// Problem says what is wrong ("page 1042 is not a B+tree page (it reads as zeroes)").
	Problem string
}

func (e *DamageError) Error() string { return e.Path + " is damaged: " + e.Problem }

// Is makes errors.Is(err, ErrDamaged) true.
func (e *DamageError) Is(target error) bool { return target == ErrDamaged }

// Summary is what Check found in a whole file.
type Summary struct {
	// Size is the file's size in bytes.
	Size int64
	// PageSize is the file's page size in bytes.
	PageSize int
	// HighWater is the number of pages the last transaction uses (the meta page's
	// high-water mark); the file must hold at least HighWater*PageSize bytes.
	HighWater uint64
	// TxID is the last committed transaction.
	TxID uint64
	// Pages counts the pages reachable from the root, overflow pages included.
	Pages uint64
	// LastPage is the highest-numbered page reachable from the root.
	LastPage uint64
}

// The on-disk layout of bbolt version 2 (go.etcd.io/bbolt/internal/common).
const (
	magic          = 0xED0CDAED
	formatVersion  = 2
	pageHeaderSize = 16 // id u64, flags u16, count u16, overflow u32
	metaSize       = 64 // magic, version, page size, flags u32; root, sequence, freelist, pgid, txid, checksum u64
	metaSummed     = 56 // the checksum covers the meta up to itself
	elementSize    = 16 // branch: pos, ksize u32, pgid u64; leaf: flags, pos, ksize, vsize u32
	bucketHeader   = 16 // root pgid u64, sequence u64

	branchPage   = 0x01
	leafPage     = 0x02
	metaPage     = 0x04
	freelistPage = 0x10

	bucketLeaf = 0x01

	noFreelist = ^uint64(0)

	minPageSize = 512
	maxPageSize = 64 << 10
)

// ne is the byte order bbolt writes: the machine's own.
var ne = binary.NativeEndian

type meta struct {
	pageSize  uint32
	root      uint64
	freelist  uint64
	highWater uint64
	txid      uint64
}

// parseMeta reads the meta at the start of page bytes b; the error says why it is not one.
func parseMeta(b []byte) (meta, error) {
	if len(b) < pageHeaderSize+metaSize {
		return meta{}, errors.New("it is cut short")
	}
	m := b[pageHeaderSize : pageHeaderSize+metaSize]
	if allZero(m) {
		return meta{}, errors.New("it reads as zeroes")
	}
	if ne.Uint32(m[0:4]) != magic {
		return meta{}, errors.New("its magic number is wrong")
	}
	if v := ne.Uint32(m[4:8]); v != formatVersion {
		return meta{}, fmt.Errorf("its format version is %d, not %d", v, formatVersion)
	}
	h := fnv.New64a()
	h.Write(m[:metaSummed])
	if h.Sum64() != ne.Uint64(m[metaSummed:]) {
		return meta{}, errors.New("its checksum does not match")
	}
	mt := meta{pageSize: ne.Uint32(m[8:12]), root: ne.Uint64(m[16:24]), freelist: ne.Uint64(m[32:40]),
		highWater: ne.Uint64(m[40:48]), txid: ne.Uint64(m[48:56])}
	if mt.pageSize < minPageSize || mt.pageSize > maxPageSize || mt.pageSize&(mt.pageSize-1) != 0 {
		return meta{}, fmt.Errorf("its page size %d is impossible", mt.pageSize)
	}
	return mt, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Check reads the bbolt file at path and reports damage as a *DamageError. It never
// maps the file, so a damaged file cannot crash the process. See the package
// documentation for what is checked.
func Check(ctx context.Context, path string) (Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return Summary{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Summary{}, err
	}
	return CheckReader(ctx, path, f, fi.Size())
}

// CheckReader is Check over r, a file of size bytes named path in messages.
func CheckReader(ctx context.Context, path string, r io.ReaderAt, size int64) (Summary, error) {
	c := checker{ctx: ctx, r: r, size: size, path: path}
	s, err := c.run()
	var de *DamageError
	if errors.As(err, &de) && de.Path == "" {
		de.Path = path
	}
	return s, err
}

type checker struct {
	ctx       context.Context
	r         io.ReaderAt
	size      int64
	path      string
	pageSize  int
	highWater uint64
	seen      []uint64 // bitmap of reachable pages
	pages     uint64
	last      uint64
	// elements counts the elements visited. In a whole file every element has 16 bytes
	// of its own, so there are at most size/16; more means elements that overlap (an
	// inline bucket reached from many elements), which would make the walk exponential.
	elements int64
}

func damaged(format string, args ...any) error {
	return &DamageError{Problem: fmt.Sprintf(format, args...)}
}

func (c *checker) run() (Summary, error) {
	s := Summary{Size: c.size}
	if c.size == 0 {
		return s, damaged("the file is empty (0 bytes)")
	}
	m, err := c.readMetas()
	if err != nil {
		return s, err
	}
	c.pageSize, c.highWater = int(m.pageSize), m.highWater
	s.PageSize, s.HighWater, s.TxID = c.pageSize, m.highWater, m.txid
	// Two meta pages, a root page and a place for the free list at the very least.
	if m.highWater < 3 || m.highWater > uint64(1)<<48 {
		return s, damaged("the meta page's high-water mark (%d pages) is impossible", m.highWater)
	}
	need := int64(m.highWater) * int64(c.pageSize)
	if c.size < need {
		return s, damaged("the file is cut short: its last transaction (%d) needs %d bytes (%d pages of %d bytes) but the file has %d bytes, %d missing",
			m.txid, need, m.highWater, c.pageSize, c.size, need-c.size)
	}
	c.seen = make([]uint64, (m.highWater+63)/64)
	c.mark(0)
	c.mark(1)
	if m.freelist != noFreelist {
		if err := c.checkFreelist(m.freelist); err != nil {
			return s, err
		}
	}
	if m.root < 2 || m.root >= m.highWater {
		return s, damaged("the root bucket's page number %d is outside the file's %d pages", m.root, m.highWater)
	}
	if err := c.walk(m.root, nil, nil, 0); err != nil {
		return s, err
	}
	s.Pages, s.LastPage = c.pages, c.last
	return s, nil
}

// readMetas reads both meta pages and returns the one bbolt would use: the valid one
// with the higher transaction id. Either one damaged is damage: the meta page written
// last names the last acknowledged transaction, and opening on the other would drop
// that transaction without a word.
func (c *checker) readMetas() (meta, error) {
	buf := make([]byte, pageHeaderSize+metaSize)
	if _, err := c.r.ReadAt(buf, 0); err != nil {
		return meta{}, damaged("the file is cut short: it is %d bytes, too small to hold its first meta page", c.size)
	}
	m0, err0 := parseMeta(buf)
	// The second meta page sits one page in; its page size is found from the first, or,
	// when that one is damaged, by trying each possible page size.
	var m1 meta
	err1 := errors.New("it cannot be found")
	sizes := []int64{int64(m0.pageSize)}
	if err0 != nil {
		sizes = sizes[:0]
		for ps := int64(minPageSize); ps <= maxPageSize; ps *= 2 {
			sizes = append(sizes, ps)
		}
	}
	for _, ps := range sizes {
		b := make([]byte, pageHeaderSize+metaSize)
		if _, err := c.r.ReadAt(b, ps); err != nil {
			if err0 == nil {
				err1 = errors.New("it is cut short")
			}
			continue
		}
		m, err := parseMeta(b)
		if err == nil && int64(m.pageSize) != ps {
			err = fmt.Errorf("its page size %d does not match its place in the file", m.pageSize)
		}
		if err0 == nil || err == nil {
			m1, err1 = m, err
		}
		if err == nil {
			break
		}
	}
	switch {
	case err0 != nil && err1 != nil:
		return meta{}, damaged("both meta pages are damaged (page 0: %v; page 1: %v); bbolt cannot open it", err0, err1)
	case err0 != nil:
		return meta{}, damaged("meta page 0 is damaged (%v); the other meta page is at transaction %d, and opening on it could silently drop the last commit", err0, m1.txid)
	case err1 != nil:
		return meta{}, damaged("meta page 1 is damaged (%v); the other meta page is at transaction %d, and opening on it could silently drop the last commit", err1, m0.txid)
	case m0.pageSize != m1.pageSize:
		return meta{}, damaged("the meta pages disagree on the page size (%d and %d)", m0.pageSize, m1.pageSize)
	}
	if m1.txid > m0.txid {
		return m1, nil
	}
	return m0, nil
}

// mark records page id as reachable and reports whether it already was.
func (c *checker) mark(id uint64) bool {
	w, bit := id/64, uint64(1)<<(id%64)
	was := c.seen[w]&bit != 0
	c.seen[w] |= bit
	c.pages++
	c.last = max(c.last, id)
	return was
}

// readPage reads page id with its overflow pages, checking its header.
func (c *checker) readPage(id uint64, what string) ([]byte, error) {
	if id < 2 || id >= c.highWater {
		return nil, damaged("%s refers to page %d, outside the file's %d pages", what, id, c.highWater)
	}
	head := make([]byte, c.pageSize)
	if _, err := c.r.ReadAt(head, int64(id)*int64(c.pageSize)); err != nil {
		return nil, damaged("page %d cannot be read: %v", id, err)
	}
	if got := ne.Uint64(head[0:8]); got != id {
		if allZero(head) {
			return nil, damaged("page %d (%s) reads as zeroes", id, what)
		}
		return nil, damaged("page %d (%s) says it is page %d", id, what, got)
	}
	overflow := uint64(ne.Uint32(head[12:16]))
	if overflow >= c.highWater-id {
		return nil, damaged("page %d runs on for %d pages, past the file's %d pages", id, overflow, c.highWater)
	}
	for i := uint64(0); i <= overflow; i++ {
		if c.mark(id + i) {
			return nil, damaged("page %d is referenced twice (the second time by %s)", id+i, what)
		}
	}
	if overflow == 0 {
		return head, nil
	}
	b := make([]byte, (overflow+1)*uint64(c.pageSize))
	copy(b, head)
	if _, err := c.r.ReadAt(b[c.pageSize:], int64(id+1)*int64(c.pageSize)); err != nil {
		return nil, damaged("page %d cannot be read: %v", id, err)
	}
	return b, nil
}

func (c *checker) checkFreelist(id uint64) error {
	b, err := c.readPage(id, "the meta page's free list")
	if err != nil {
		return err
	}
	if flags := ne.Uint16(b[8:10]); flags != freelistPage {
		return damaged("page %d should be the free list but has page type %#x", id, flags)
	}
	n, start := uint64(ne.Uint16(b[10:12])), uint64(pageHeaderSize)
	if n == 0xFFFF { // the count overflows into the first element
		n, start = ne.Uint64(b[pageHeaderSize:]), pageHeaderSize+8
	}
	if n > (uint64(len(b))-start)/8 {
		return damaged("the free list on page %d claims %d entries, more than its page holds", id, n)
	}
	for i := uint64(0); i < n; i++ {
		if f := ne.Uint64(b[start+8*i:]); f < 2 || f >= c.highWater {
			return damaged("the free list on page %d names page %d, outside the file's %d pages", id, f, c.highWater)
		}
	}
	return nil
}

// maxDepth bounds the B+tree's depth (buckets nested in buckets included); bbolt's
// trees are a handful of levels deep, and a cycle is caught earlier by mark.
const maxDepth = 64

// walk checks the B+tree page id and everything below it. Its keys must lie in
// [lo, hi) (nil: unbounded).
func (c *checker) walk(id uint64, lo, hi []byte, depth int) error {
	if c.pages%1024 == 0 {
		if err := c.ctx.Err(); err != nil {
			return err
		}
	}
	if depth > maxDepth {
		return damaged("the B+tree is more than %d levels deep at page %d", maxDepth, id)
	}
	b, err := c.readPage(id, "a B+tree")
	if err != nil {
		return err
	}
	return c.node(id, b, lo, hi, depth)
}

// node checks the branch or leaf page in b (a page of the file, or an inline bucket's
// page inside a value, when id is 0).
func (c *checker) node(id uint64, b []byte, lo, hi []byte, depth int) error {
	where := fmt.Sprintf("page %d", id)
	if id == 0 {
		where = "an inline bucket"
	}
	if len(b) < pageHeaderSize {
		return damaged("%s is too short for a page header", where)
	}
	flags, count := ne.Uint16(b[8:10]), int(ne.Uint16(b[10:12]))
	if flags != branchPage && flags != leafPage {
		if allZero(b[8:pageHeaderSize]) {
			return damaged("%s is not a B+tree page (its header reads as zeroes)", where)
		}
		return damaged("%s is not a B+tree page (page type %#x)", where, flags)
	}
	if pageHeaderSize+count*elementSize > len(b) {
		return damaged("%s claims %d elements, more than it holds", where, count)
	}
	if flags == branchPage && count == 0 {
		return damaged("%s is a branch page with no children", where)
	}
	c.elements += int64(count)
	if c.elements > c.size/elementSize {
		return damaged("%s: its elements overlap others", where)
	}
	var prev []byte
	for i := 0; i < count; i++ {
		off := pageHeaderSize + i*elementSize
		e := b[off : off+elementSize]
		var key, value []byte
		var child uint64
		var leafFlags uint32
		if flags == branchPage {
			pos, ksize := uint64(ne.Uint32(e[0:4])), uint64(ne.Uint32(e[4:8]))
			child = ne.Uint64(e[8:16])
			if uint64(off)+pos+ksize > uint64(len(b)) {
				return damaged("%s: element %d's key runs past the end of the page", where, i)
			}
			key = b[uint64(off)+pos : uint64(off)+pos+ksize]
		} else {
			leafFlags = ne.Uint32(e[0:4])
			pos, ksize, vsize := uint64(ne.Uint32(e[4:8])), uint64(ne.Uint32(e[8:12])), uint64(ne.Uint32(e[12:16]))
			if uint64(off)+pos+ksize+vsize > uint64(len(b)) {
				return damaged("%s: element %d's key or value runs past the end of the page", where, i)
			}
			key = b[uint64(off)+pos : uint64(off)+pos+ksize]
			value = b[uint64(off)+pos+ksize : uint64(off)+pos+ksize+vsize]
			if leafFlags&^bucketLeaf != 0 {
				return damaged("%s: element %d has unknown flags %#x", where, i, leafFlags)
			}
		}
		switch {
		case len(key) == 0:
			return damaged("%s: element %d has an empty key", where, i)
		case prev != nil && bytes.Compare(prev, key) >= 0:
			return damaged("%s: keys out of order at element %d", where, i)
		case lo != nil && bytes.Compare(key, lo) < 0, hi != nil && bytes.Compare(key, hi) >= 0:
			return damaged("%s: element %d's key lies outside the range its parent gives it", where, i)
		}
		prev = key
		if flags == branchPage {
			if id != 0 && child == id {
				return damaged("%s: element %d refers to its own page", where, i)
			}
			next := hi
			if i+1 < count {
				n := pageHeaderSize + (i+1)*elementSize
				pos, ksize := uint64(ne.Uint32(b[n:n+4])), uint64(ne.Uint32(b[n+4:n+8]))
				if uint64(n)+pos+ksize > uint64(len(b)) {
					return damaged("%s: element %d's key runs past the end of the page", where, i+1)
				}
				next = b[uint64(n)+pos : uint64(n)+pos+ksize]
			}
			if err := c.walk(child, key, next, depth+1); err != nil {
				return err
			}
			continue
		}
		if leafFlags&bucketLeaf == 0 {
			continue
		}
		// A nested bucket: its header, then either its root page number or, for a small
		// bucket, its whole page inline.
		if len(value) < bucketHeader {
			return damaged("%s: bucket %q has a value too short for a bucket header", where, printable(key))
		}
		if root := ne.Uint64(value[0:8]); root != 0 {
			if err := c.walk(root, nil, nil, depth+1); err != nil {
				return err
			}
			continue
		}
		inline := value[bucketHeader:]
		if len(inline) >= pageHeaderSize && ne.Uint16(inline[8:10]) != leafPage {
			return damaged("%s: inline bucket %q is not a leaf page", where, printable(key))
		}
		if err := c.node(0, inline, nil, nil, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// printable shortens a key for a message.
func printable(k []byte) string {
	if len(k) > 32 {
		k = k[:32]
	}
	return string(bytes.ToValidUTF8(k, []byte("?")))
}
