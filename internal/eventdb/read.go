package eventdb

import (
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// maxPageBytes bounds the payload one read page copies out, so a page of large events
// cannot take much memory and no read transaction stays open for long.
const maxPageBytes = 4 << 20

// StreamRead asks for a page of one stream.
type StreamRead struct {
	Stream string
	// From is the first revision to return; with Backwards, the highest.
	From uint64
	// FromEnd starts at the stream's end: nothing forwards, the last event backwards.
	FromEnd   bool
	Backwards bool
	// Max is the most records to return; 0 means 512.
	Max int
}

// StreamPage is one page of a stream read.
type StreamPage struct {
	Records []Record
	// Next is the revision to continue from: forwards, one past the last revision looked
	// at (even at the end, so a subscriber can wait there); backwards, when End is false,
	// the next revision down.
	Next uint64
	End  bool
	// LastRevision is the stream's last revision when the page was read.
	LastRevision uint64
}

// ReadStream reads a page of a stream, honouring its metadata ($tb, $maxCount, $maxAge).
// It returns ErrStreamNotFound for a stream with no readable events and a
// *StreamDeletedError for a tombstoned one.
func (db *DB) ReadStream(req StreamRead) (StreamPage, error) {
	if err := validateStream(req.Stream); err != nil {
		return StreamPage{}, err
	}
	if req.Max <= 0 {
		req.Max = 512
	}
	var page StreamPage
	err := db.view(func(tx *bolt.Tx, iv indexView) error {
		r := reader{tx: tx, index: iv}
		st := loadStream(tx.Bucket(bucketStreams), iv, req.Stream)
		if st.tombstoned {
			return &StreamDeletedError{Stream: req.Stream}
		}
		if st.last < 0 {
			return fmt.Errorf("%w: %s", ErrStreamNotFound, req.Stream)
		}
		var meta streamMetadata
		if !IsMetadataStream(req.Stream) {
			meta = r.metadata(req.Stream)
			if meta.softDeleted() {
				return fmt.Errorf("%w: %s", ErrStreamNotFound, req.Stream)
			}
		}
		page.LastRevision = uint64(st.last)
		first := meta.firstVisible(st.last)
		var oldest int64 // created ticks below this are past $maxAge
		if meta.maxAge > 0 {
			oldest = db.opts.Now().Add(-secondsDuration(meta.maxAge)).UnixNano() / 100
		}
		bytes := 0
		var keepErr error
		keep := func(e indexEntry) bool {
			rec, err := decodeRecord(e.pos, tx.Bucket(bucketLog).Get(u64(e.pos)))
			if err != nil {
				keepErr = fmt.Errorf("%w: %w", errStorage, err)
				return false
			}
			if oldest == 0 || rec.Created >= oldest {
				page.Records = append(page.Records, rec)
				bytes += len(rec.Data) + len(rec.Metadata)
			}
			return true
		}
		full := func() bool { return len(page.Records) >= req.Max || bytes >= maxPageBytes }
		if !req.Backwards {
			from := int64(req.From)
			if req.FromEnd || req.From > uint64(st.last) {
				page.End = true
				page.Next = max(req.From, uint64(st.last)+1)
				if req.FromEnd {
					page.Next = uint64(st.last) + 1
				}
				return nil
			}
			if from < first {
				from = first
			}
			page.Next = uint64(from)
			page.End = true
			iv.ascend(st.id, uint64(from), func(e indexEntry) bool {
				if full() {
					page.End = false
					return false
				}
				if !keep(e) {
					return false
				}
				page.Next = e.rev + 1
				return true
			})
			return keepErr
		}
		from := st.last
		if !req.FromEnd && req.From < uint64(st.last) {
			from = int64(req.From)
		}
		page.End = true
		if from < first {
			return nil
		}
		iv.descend(st.id, uint64(from), func(e indexEntry) bool {
			if int64(e.rev) < first {
				return false
			}
			if full() {
				page.Next, page.End = e.rev, false
				return false
			}
			return keep(e)
		})
		return keepErr
	})
	return page, err
}

// view runs fn in a read transaction with the index as that transaction sees it. The
// pending index is read-locked from before the transaction starts, so entries merged by
// a later commit are not trimmed away while fn may still need them.
func (db *DB) view(fn func(tx *bolt.Tx, iv indexView) error) error {
	db.pending.mu.RLock()
	defer db.pending.mu.RUnlock()
	return db.bolt.View(func(tx *bolt.Tx) error {
		return fn(tx, indexView{idx: tx.Bucket(bucketIndex), pending: db.pending.streams})
	})
}

// StreamLastRevision returns a stream's last revision, or -1 when it has no events.
func (db *DB) StreamLastRevision(stream string) (int64, error) {
	var last int64 = -1
	err := db.view(func(tx *bolt.Tx, iv indexView) error {
		st := loadStream(tx.Bucket(bucketStreams), iv, stream)
		if st.tombstoned {
			return &StreamDeletedError{Stream: stream}
		}
		last = st.last
		return nil
	})
	return last, err
}

// Filter selects records of $all by stream name and event type without decoding their
// payloads. A nil Filter selects everything.
type Filter func(stream, eventType []byte) bool

// AllRead asks for a page of $all.
type AllRead struct {
	// From is the position to start at: inclusive forwards, exclusive backwards.
	From uint64
	// FromEnd starts at the end of the log: nothing forwards, the last record backwards.
	FromEnd   bool
	Backwards bool
	// Max is the most matching records to return; 0 means 512.
	Max int
	// MaxScan stops the page after this many records were looked at; 0 means no bound.
	MaxScan int
	Filter  Filter
}

// AllPage is one page of $all.
type AllPage struct {
	Records []Record
	// Considered counts the records looked at, matching or not.
	Considered int
	// LastConsidered is the position of the last record looked at (0 if none).
	LastConsidered uint64
	// Next is where to continue (same inclusive/exclusive sense as AllRead.From).
	Next uint64
	End  bool
}

// ReadAll reads a page of the global log in position order.
func (db *DB) ReadAll(req AllRead) (AllPage, error) {
	var page AllPage
	bytes := 0
	err := db.scanAll(req, &page, func() bool { return len(page.Records) >= req.Max || bytes >= maxPageBytes },
		func(pos uint64, v []byte, _ *recordHeader) error {
			rec, err := decodeRecord(pos, v)
			if err != nil {
				return fmt.Errorf("%w: %w", errStorage, err)
			}
			page.Records = append(page.Records, rec)
			bytes += len(rec.Data) + len(rec.Metadata)
			return nil
		})
	return page, err
}

// RecordView is a stored record seen in place: its slices belong to the store and are
// valid only during the call that receives it.
type RecordView struct {
	Position uint64
	Stream   []byte
	Revision uint64
	ID       [16]byte
	Type     []byte
	IsJSON   bool
	Created  int64
	Data     []byte
	Metadata []byte
}

// ScanAll is ReadAll without copies: visit sees each matching record in place, inside
// the read transaction, and must copy what it keeps. The page's Records stay empty; its
// other fields mean what they mean for ReadAll. Matching records stop the page at
// req.Max, or when visit returns ErrPageFull.
func (db *DB) ScanAll(req AllRead, visit func(*RecordView) error) (AllPage, error) {
	var page AllPage
	matched, full := 0, false
	err := db.scanAll(req, &page, func() bool { return full || matched >= req.Max },
		func(pos uint64, v []byte, h *recordHeader) error {
			if h == nil {
				hh, err := decodeHeader(v)
				if err != nil {
					return fmt.Errorf("%w: record at position %d: %w", errStorage, pos, err)
				}
				h = &hh
			}
			d := recordReader{buf: v, off: h.rest}
			data := d.bytes()
			meta := d.bytes()
			if d.err != nil {
				return fmt.Errorf("%w: record at position %d: %w", errStorage, pos, d.err)
			}
			matched++
			err := visit(&RecordView{Position: pos, Stream: h.stream, Revision: h.revision, ID: h.id, Type: h.typ,
				IsJSON: h.isJSON, Created: h.created, Data: data, Metadata: meta})
			if errors.Is(err, ErrPageFull) {
				full = true
				return nil
			}
			return err
		})
	return page, err
}

// ErrPageFull, returned by a ScanAll visitor, ends the page after the record it was given.
var ErrPageFull = errors.New("page full")

// scanAll walks $all for ReadAll and ScanAll: it positions the cursor, applies the filter
// and keeps the page's counters; take is given each matching record, with its decoded
// header when the filter needed one.
func (db *DB) scanAll(req AllRead, page *AllPage, full func() bool, take func(pos uint64, v []byte, h *recordHeader) error) error {
	if req.Max <= 0 {
		req.Max = 512
	}
	return db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLog).Cursor()
		var k, v []byte
		switch {
		case !req.Backwards && req.FromEnd:
			page.End = true
			return nil
		case !req.Backwards:
			k, v = c.Seek(u64(req.From))
		case req.FromEnd:
			k, v = c.Last()
		default:
			k, v = c.Seek(u64(req.From))
			if k == nil {
				k, v = c.Last()
			}
			if k != nil && binary.BigEndian.Uint64(k) >= req.From {
				k, v = c.Prev()
			}
		}
		for ; k != nil; k, v = step(c, req.Backwards) {
			pos := binary.BigEndian.Uint64(k)
			if full() || (req.MaxScan > 0 && page.Considered >= req.MaxScan) {
				page.Next = pos
				if req.Backwards {
					page.Next = pos + 1
				}
				return nil
			}
			page.Considered++
			page.LastConsidered = pos
			var hp *recordHeader
			if req.Filter != nil {
				h, err := decodeHeader(v)
				if err != nil {
					return fmt.Errorf("%w: record at position %d: %w", errStorage, pos, err)
				}
				if !req.Filter(h.stream, h.typ) {
					continue
				}
				hp = &h
			}
			if err := take(pos, v, hp); err != nil {
				return err
			}
		}
		page.End = true
		return nil
	})
}

func step(c *bolt.Cursor, backwards bool) ([]byte, []byte) {
	if backwards {
		return c.Prev()
	}
	return c.Next()
}

// reader holds read-side helpers that need a transaction.
type reader struct {
	tx    *bolt.Tx
	index indexView
}

func (r reader) metadata(name string) streamMetadata {
	mst := loadStream(r.tx.Bucket(bucketStreams), r.index, MetadataStream(name))
	if mst.last < 0 || mst.tombstoned {
		return streamMetadata{}
	}
	e, ok := r.index.get(mst.id, uint64(mst.last))
	if !ok {
		return streamMetadata{}
	}
	rec, err := decodeRecord(e.pos, r.tx.Bucket(bucketLog).Get(u64(e.pos)))
	if err != nil {
		return streamMetadata{}
	}
	return parseStreamMetadata(rec.Data)
}
