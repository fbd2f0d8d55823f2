package eventdb

import (
	"encoding/binary"
	"fmt"
	"sort"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// The stream index (stream id, revision -> position, event id) is a B-tree keyed by
// stream, so every stream an append touches dirties a page of it, and those pages were
// half of what a group commit wrote. Instead, each commit writes its index entries as one
// record of an index log (sequential keys: one page), and keeps them in memory as
// pending; once enough are pending, the oldest are merged into the B-tree in one go, so a
// stream's page is written once per merge rather than once per commit. Readers see the
// B-tree and the pending entries together; on open the index log is read back.

// indexEntry is one stream revision's place.
type indexEntry struct {
	rev uint64
	pos uint64
	id  [16]byte
}

const indexEntrySize = 8 + 8 + 8 + 16 // stream id, revision, position, event id

// Pending entries are merged into the B-tree when more than mergeAbove are waiting,
// mergeChunk or so at a time.
const (
	mergeAbove = 16384
	mergeChunk = 8192
)

// pendingCommit is one commit's entries in the index log.
type pendingCommit struct {
	key    uint64
	counts map[uint64]int // entries per stream id
	n      int
}

// pendingIndex holds the index entries not merged into the B-tree yet. Readers hold mu
// for reading from before their transaction starts until they are done with it, so the
// entries they need cannot be trimmed away under them; the writer holds it for writing
// only to change the maps after a commit.
type pendingIndex struct {
	mu      sync.RWMutex
	streams map[uint64][]indexEntry // ascending revisions: a suffix of each stream
	commits []pendingCommit         // oldest first
	entries int
	nextKey uint64
}

func newPendingIndex() *pendingIndex {
	return &pendingIndex{streams: make(map[uint64][]indexEntry), nextKey: 1}
}

// load reads the index log back on open.
func (p *pendingIndex) load(tx *bolt.Tx) error {
	c := tx.Bucket(bucketIndexLog).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) != 8 || len(v)%indexEntrySize != 0 {
			return fmt.Errorf("index log record %x is malformed", k)
		}
		pc := pendingCommit{key: binary.BigEndian.Uint64(k), counts: map[uint64]int{}}
		for off := 0; off < len(v); off += indexEntrySize {
			id, e := decodeIndexLogEntry(v[off : off+indexEntrySize])
			p.streams[id] = append(p.streams[id], e)
			pc.counts[id]++
			pc.n++
		}
		p.commits = append(p.commits, pc)
		p.entries += pc.n
		p.nextKey = pc.key + 1
	}
	return nil
}

func appendIndexLogEntry(dst []byte, streamID uint64, e indexEntry) []byte {
	dst = binary.BigEndian.AppendUint64(dst, streamID)
	dst = binary.BigEndian.AppendUint64(dst, e.rev)
	dst = binary.BigEndian.AppendUint64(dst, e.pos)
	return append(dst, e.id[:]...)
}

func decodeIndexLogEntry(b []byte) (uint64, indexEntry) {
	var e indexEntry
	id := binary.BigEndian.Uint64(b[0:8])
	e.rev = binary.BigEndian.Uint64(b[8:16])
	e.pos = binary.BigEndian.Uint64(b[16:24])
	copy(e.id[:], b[24:40])
	return id, e
}

func indexValue(e indexEntry) []byte {
	v := make([]byte, 24)
	binary.BigEndian.PutUint64(v[0:8], e.pos)
	copy(v[8:], e.id[:])
	return v
}

// batchIndex is what one commit adds to the index, in the order it was written.
type batchIndex struct {
	order   []uint64 // stream ids in first-write order
	streams map[uint64][]indexEntry
	n       int
}

func (bi *batchIndex) add(streamID uint64, e indexEntry) {
	if bi.streams == nil {
		bi.streams = make(map[uint64][]indexEntry)
	}
	if _, ok := bi.streams[streamID]; !ok {
		bi.order = append(bi.order, streamID)
	}
	bi.streams[streamID] = append(bi.streams[streamID], e)
	bi.n++
}

// writeLog stores the batch's entries as the next index log record.
func (p *pendingIndex) writeLog(tx *bolt.Tx, bi *batchIndex) (uint64, error) {
	key := p.nextKey
	v := make([]byte, 0, bi.n*indexEntrySize)
	for _, id := range bi.order {
		for _, e := range bi.streams[id] {
			v = appendIndexLogEntry(v, id, e)
		}
	}
	if err := tx.Bucket(bucketIndexLog).Put(u64(key), v); err != nil {
		return 0, fmt.Errorf("%w: %w", errStorage, err)
	}
	return key, nil
}

// merge moves the oldest pending commits into the B-tree inside tx and returns how many
// commits it merged; the caller trims them from memory once tx has committed.
func (p *pendingIndex) merge(tx *bolt.Tx) (int, error) {
	if p.entries <= mergeAbove {
		return 0, nil
	}
	n, entries := 0, 0
	for n < len(p.commits) && entries < mergeChunk {
		entries += p.commits[n].n
		n++
	}
	// Entries of the merged commits are the oldest of each stream: the first counts[id].
	take := map[uint64]int{}
	for _, pc := range p.commits[:n] {
		for id, c := range pc.counts {
			take[id] += c
		}
	}
	ids := make([]uint64, 0, len(take))
	for id := range take {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	idx := tx.Bucket(bucketIndex)
	for _, id := range ids {
		for _, e := range p.streams[id][:take[id]] {
			if err := idx.Put(indexKey(id, e.rev), indexValue(e)); err != nil {
				return 0, fmt.Errorf("%w: %w", errStorage, err)
			}
		}
	}
	log := tx.Bucket(bucketIndexLog)
	for _, pc := range p.commits[:n] {
		if err := log.Delete(u64(pc.key)); err != nil {
			return 0, fmt.Errorf("%w: %w", errStorage, err)
		}
	}
	return n, nil
}

// committed updates memory after a commit that merged the oldest merged commits and
// logged bi under key.
func (p *pendingIndex) committed(merged int, key uint64, bi *batchIndex) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pc := range p.commits[:merged] {
		for id, c := range pc.counts {
			rest := p.streams[id][c:]
			if len(rest) == 0 {
				delete(p.streams, id)
			} else {
				p.streams[id] = rest
			}
		}
		p.entries -= pc.n
	}
	p.commits = p.commits[merged:]
	if bi.n > 0 {
		pc := pendingCommit{key: key, counts: make(map[uint64]int, len(bi.order)), n: bi.n}
		for _, id := range bi.order {
			p.streams[id] = append(p.streams[id], bi.streams[id]...)
			pc.counts[id] = len(bi.streams[id])
		}
		p.commits = append(p.commits, pc)
		p.entries += bi.n
		p.nextKey = key + 1
	}
}

// indexView answers index questions for one transaction: the B-tree, then the pending
// entries, then (for the writer) the entries of the batch being written. Pending entries
// are always the newest revisions of their stream; during the moment after a merge
// commits and before memory is trimmed, an entry may be in both, which is harmless.
type indexView struct {
	idx     *bolt.Bucket
	pending map[uint64][]indexEntry
	batch   *batchIndex // nil for readers
}

func (v indexView) tails(id uint64) [2][]indexEntry {
	var t [2][]indexEntry
	t[0] = v.pending[id]
	if v.batch != nil {
		t[1] = v.batch.streams[id]
	}
	return t
}

// last is the stream's last revision, or -1.
func (v indexView) last(id uint64) int64 {
	t := v.tails(id)
	for i := len(t) - 1; i >= 0; i-- {
		if n := len(t[i]); n > 0 {
			return int64(t[i][n-1].rev)
		}
	}
	c := v.idx.Cursor()
	k, _ := c.Seek(indexKey(id+1, 0))
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	if k != nil && binary.BigEndian.Uint64(k[0:8]) == id {
		return int64(binary.BigEndian.Uint64(k[8:16]))
	}
	return -1
}

// get finds one revision.
func (v indexView) get(id, rev uint64) (indexEntry, bool) {
	for _, tail := range v.tails(id) {
		if len(tail) > 0 && rev >= tail[0].rev && rev <= tail[len(tail)-1].rev {
			return tail[rev-tail[0].rev], true
		}
	}
	val := v.idx.Get(indexKey(id, rev))
	if len(val) != 24 {
		return indexEntry{}, false
	}
	e := indexEntry{rev: rev, pos: binary.BigEndian.Uint64(val[0:8])}
	copy(e.id[:], val[8:24])
	return e, true
}

// ascend calls fn for revisions from `from` upwards until fn returns false.
func (v indexView) ascend(id, from uint64, fn func(indexEntry) bool) {
	next := from
	c := v.idx.Cursor()
	for k, val := c.Seek(indexKey(id, from)); k != nil && binary.BigEndian.Uint64(k[0:8]) == id; k, val = c.Next() {
		e := indexEntry{rev: binary.BigEndian.Uint64(k[8:16]), pos: binary.BigEndian.Uint64(val[0:8])}
		copy(e.id[:], val[8:24])
		if !fn(e) {
			return
		}
		next = e.rev + 1
	}
	for _, tail := range v.tails(id) {
		for _, e := range tail {
			if e.rev < next {
				continue
			}
			if !fn(e) {
				return
			}
			next = e.rev + 1
		}
	}
}

// descend calls fn for revisions from `from` downwards until fn returns false.
func (v indexView) descend(id, from uint64, fn func(indexEntry) bool) {
	below := from + 1 // revisions below this are still to be visited
	t := v.tails(id)
	for i := len(t) - 1; i >= 0; i-- {
		tail := t[i]
		for j := len(tail) - 1; j >= 0; j-- {
			e := tail[j]
			if e.rev >= below {
				continue
			}
			if !fn(e) {
				return
			}
			below = e.rev
		}
	}
	if below == 0 {
		return
	}
	c := v.idx.Cursor()
	var k, val []byte
	if k, _ = c.Seek(indexKey(id, below)); k == nil {
		k, val = c.Last()
	} else {
		k, val = c.Prev()
	}
	for ; k != nil && binary.BigEndian.Uint64(k[0:8]) == id; k, val = c.Prev() {
		e := indexEntry{rev: binary.BigEndian.Uint64(k[8:16]), pos: binary.BigEndian.Uint64(val[0:8])}
		copy(e.id[:], val[8:24])
		if !fn(e) {
			return
		}
	}
}
