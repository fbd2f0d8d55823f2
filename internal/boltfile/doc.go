// Package boltfile checks that a bbolt file is whole before bbolt maps it, and opens it
// so that damage is an error rather than a crash.
//
// bbolt trusts its file: it maps it into memory and follows page numbers and offsets
// read from it without bounds checks. A file cut short makes the first read past its
// end die with SIGBUS; a zeroed or scrambled page makes bbolt panic, sometimes on a
// goroutine of its own where no recover can reach (the free-page scan that an open
// with NoFreelistSync runs). So Check reads the file with ordinary reads, never through
// a mapping, and validates everything bbolt will later follow: both meta pages (magic,
// version, checksum), the file's size against the high-water mark of the meta page in
// use, and every page reachable from the root (page id, type, element offsets and
// sizes inside the page, keys in order, child page numbers below the high-water mark,
// no page reached twice, inline buckets). Only a file that passes is handed to bbolt,
// and Open runs bbolt's own open under recover as a second line.
//
// Check does not read event payloads: damage inside a value (an event's bytes) is for
// the owner of the values to find (eventdb decodes every record, and the hash chains
// of `gateledger verify` cover every event's content). Pages that nothing references
// (free pages, the unused tail bbolt allocates ahead) hold nothing, and damage there
// is harmless.
//
// The file format is bbolt's (version 2), in the machine's native byte order, as bbolt
// writes it. This package may import the standard library, bbolt and x/sys only.
package boltfile
