package eventlog

import (
	"encoding/binary"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gateledger/gateledger/aggregates"
)

// DecodeMetadata parses a stored envelope. Read models parse one per event, and
// encoding/json's reflection was a fifth of a rebuild's time, so the envelope's flat
// shape (string fields, two instants, one integer) is scanned here directly. Anything the scanner does
// not expect falls back to encoding/json, so the result is always what json.Unmarshal
// would give; FuzzDecodeMetadata checks that.
func DecodeMetadata(raw []byte) (Metadata, error) { return (*Interner)(nil).DecodeMetadata(raw) }

// Interner remembers the strings that repeat from one envelope to the next (user ids,
// roles, organisations, sources, command names), so that decoding many envelopes does
// not allocate them again and again. It is not safe for concurrent use: give each
// decoding goroutine its own. A nil *Interner interns nothing.
type Interner struct{ m map[string]string }

// NewInterner returns an empty interner.
func NewInterner() *Interner { return &Interner{m: make(map[string]string)} }

// internCap bounds an interner: past it, new strings are simply allocated.
const internCap = 1 << 14

func (in *Interner) intern(b []byte) string {
	if in == nil {
		return string(b)
	}
	if s, ok := in.m[string(b)]; ok { // the conversion in a map index does not allocate
		return s
	}
	s := string(b)
	if len(in.m) < internCap {
		in.m[s] = s
	}
	return s
}

// DecodeMetadata is DecodeMetadata, interning the repeating strings.
func (in *Interner) DecodeMetadata(raw []byte) (Metadata, error) {
	var m Metadata // stays on the stack: the fallback decodes into a variable of its own
	if scanMetadata(raw, &m, in) {
		return m, nil
	}
	var slow Metadata
	if err := json.Unmarshal(raw, &slow); err != nil {
		return Metadata{}, err
	}
	return slow, nil
}

// The string fields of the envelope, by index into metadataTargets.
const (
	fUserID = iota
	fRole
	fOrganisation
	fSource
	fCorrelationID
	fCausationID
	fIdempotencyKey
	fPreviousHash
	fHash
	fCommand
	fCommandDigest
	numStringFields
)

// The other keys, after the string fields (and their bits in the set of keys seen).
const (
	fSchemaVersion = numStringFields + iota
	fOccurredAt
	fRecordedAt
)

// metadataField maps a key to its field, or -1.
func metadataField(key []byte) int {
	switch string(key) { // does not allocate
	case "userId":
		return fUserID
	case "role":
		return fRole
	case "organisation":
		return fOrganisation
	case "source":
		return fSource
	case "correlationId":
		return fCorrelationID
	case "causationId":
		return fCausationID
	case "idempotencyKey":
		return fIdempotencyKey
	case "previousHash":
		return fPreviousHash
	case "hash":
		return fHash
	case "command":
		return fCommand
	case "commandDigest":
		return fCommandDigest
	case "schemaVersion":
		return fSchemaVersion
	case "occurredAt":
		return fOccurredAt
	case "recordedAt":
		return fRecordedAt
	}
	return -1
}

// scanMetadata fills m from a JSON object of known keys with string values, the two
// instants in the form the ledger writes and an integer schemaVersion; it reports
// false for anything else.
//
// The values the ledger does not repeat from one envelope to the next (hashes, ids,
// keys, digests) are copied into one string, which they share; the repeating ones
// (who, organisation, command) go through the interner when there is one.
func scanMetadata(b []byte, m *Metadata, in *Interner) bool {
	targets := [numStringFields]*string{
		&m.UserID, &m.Role, &m.Organisation, (*string)(&m.Source), &m.CorrelationID,
		&m.CausationID, &m.IdempotencyKey, &m.PreviousHash, &m.Hash, &m.Command, &m.CommandDigest,
	}
	// spans[f] is where field f's value lies in b, for the fields to be copied.
	var spans [numStringFields]struct{ start, end int }
	var pending uint32 // fields with a span to copy
	total := 0

	s := scanner{b: b}
	s.ws()
	if !s.eat('{') {
		return false
	}
	s.ws()
	if s.eat('}') {
		s.ws()
		return s.i == len(b)
	}
	var seen uint32
	for {
		s.ws()
		key, ok := s.raw()
		if !ok {
			return false // escaped keys are left to encoding/json
		}
		s.ws()
		if !s.eat(':') {
			return false
		}
		s.ws()
		f := metadataField(key)
		if f < 0 {
			return false // an unknown key: encoding/json knows how it would be treated
		}
		bit := uint32(1) << f
		switch f {
		case fSchemaVersion:
			n, ok := s.int()
			if !ok {
				return false
			}
			m.SchemaVersion = n
		case fOccurredAt, fRecordedAt:
			v, ok := s.raw()
			if !ok {
				return false
			}
			t, ok := aggregates.ParseInstant(v)
			if !ok {
				return false // encoding/json's rules for other forms are its own
			}
			if f == fOccurredAt {
				m.OccurredAt = t
			} else {
				m.RecordedAt = t
			}
		default:
			start := s.i + 1
			v, plain, ok := s.str()
			if !ok {
				return false
			}
			switch {
			case !plain:
				*targets[f] = v // decoded from escapes, already a string of its own
			case f == fSource:
				*targets[f] = string(knownSource(b[start:s.i-1], in))
			case f == fUserID || f == fRole || f == fOrganisation || f == fCommand:
				if in != nil {
					*targets[f] = in.intern(b[start : s.i-1])
					break
				}
				fallthrough
			default:
				spans[f].start, spans[f].end = start, s.i-1
				pending |= 1 << f
				total += s.i - 1 - start
			}
		}
		if seen&bit != 0 {
			return false // a repeated key: leave the last-wins rule to encoding/json
		}
		seen |= bit
		s.ws()
		if s.eat(',') {
			continue
		}
		if !s.eat('}') {
			return false
		}
		s.ws()
		if s.i != len(b) {
			return false
		}
		break
	}
	if pending != 0 {
		var sb strings.Builder
		sb.Grow(total)
		for f := range numStringFields {
			if pending&(1<<f) != 0 {
				sb.Write(b[spans[f].start:spans[f].end])
			}
		}
		all, off := sb.String(), 0
		for f := range numStringFields {
			if pending&(1<<f) != 0 {
				n := spans[f].end - spans[f].start
				*targets[f], off = all[off:off+n], off+n
			}
		}
	}
	return true
}

// knownSource returns the constant for one of the sources the ledger writes, so that
// it is not allocated, and any other through the interner.
func knownSource(v []byte, in *Interner) aggregates.Source {
	for _, src := range [...]aggregates.Source{aggregates.SourceHMPPSFeed, aggregates.SourceAPI, aggregates.SourceUI, aggregates.SourceSystem} {
		if string(v) == string(src) {
			return src
		}
	}
	return aggregates.Source(in.intern(v))
}

type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// Classes of bytes inside a JSON string, for scanning one in a single pass.
const (
	plainByte   = iota // ASCII that stands for itself
	quoteByte          // the end of the string
	escapeByte         // a backslash
	controlByte        // not allowed unescaped
	highByte           // part of a multi-byte UTF-8 sequence, or invalid
)

// stringByte is the class of each byte. It is built once and never written.
var stringByte = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case c == '"':
			t[c] = quoteByte
		case c == '\\':
			t[c] = escapeByte
		case c < 0x20:
			t[c] = controlByte
		case c >= utf8.RuneSelf:
			t[c] = highByte
		}
	}
	return t
}()

// span reads a JSON string up to its closing quote or its first escape: class is
// quoteByte for a whole string without escapes, in s.b[start:end], and escapeByte
// when a backslash stops it (s.i is then unchanged past the opening quote). high reports
// bytes outside ASCII.
func (s *scanner) span() (start, end int, class uint8, high bool) {
	if !s.eat('"') {
		return 0, 0, controlByte, false
	}
	start = s.i
	for i := start; i < len(s.b); {
		// Hashes and ids are long runs of plain bytes: skip them eight at a time,
		// then look at the next eight one by one.
		for i+8 <= len(s.b) && plain8(binary.LittleEndian.Uint64(s.b[i:])) {
			i += 8
		}
		for end := min(i+8, len(s.b)); i < end; i++ {
			switch stringByte[s.b[i]] {
			case plainByte:
			case highByte:
				high = true
			case quoteByte:
				s.i = i + 1
				return start, i, quoteByte, high
			case escapeByte:
				return start, i, escapeByte, high
			default:
				return start, i, controlByte, high
			}
		}
	}
	return start, len(s.b), controlByte, high
}

// plain8 reports whether the eight bytes of x are all plainByte. It may say false for
// plain bytes (the caller then looks at them one by one) but never true for others.
func plain8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	hasZero := func(v uint64) bool { return (v-ones)&^v&highs != 0 }
	return x&highs == 0 && // all ASCII, so a byte below 0x20 borrows into its own top bit:
		(x-0x20*ones)&^x&highs == 0 &&
		!hasZero(x^('"'*ones)) && !hasZero(x^('\\'*ones))
}

// raw reads a JSON string without escapes or control characters and returns its
// bytes as they are, which may be any UTF-8 or none.
func (s *scanner) raw() ([]byte, bool) {
	start, end, class, _ := s.span()
	return s.b[start:end], class == quoteByte
}

// str reads a JSON string. A string without escapes (all the ledger writes) is checked
// and left where it is, plain true, for the caller to copy from s.b; escapes are
// decoded by the rules of RFC 8259 into a new string.
func (s *scanner) str() (v string, plain, ok bool) {
	start, end, class, high := s.span()
	switch class {
	case quoteByte:
		if high && !utf8.Valid(s.b[start:end]) {
			return "", false, false // encoding/json replaces invalid bytes: let it
		}
		return "", true, true
	case escapeByte:
		v, ok := s.escaped(start)
		return v, false, ok
	}
	return "", false, false
}

func (s *scanner) escaped(start int) (string, bool) {
	out := append([]byte(nil), s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if !utf8.Valid(out) {
				return "", false
			}
			return string(out), true
		case c < 0x20:
			return "", false
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			return "", false
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				// Pairs and lone surrogates: encoding/json's handling is the reference.
				return "", false
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", false
		}
	}
	return "", false
}

func (s *scanner) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(s.b[s.i:s.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	s.i += 4
	return rune(v), true
}

// int reads a small non-negative JSON integer (no sign, fraction or exponent).
func (s *scanner) int() (int, bool) {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	digits := s.b[start:s.i]
	if len(digits) == 0 || len(digits) > 9 || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	if s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		return 0, false
	}
	n, err := strconv.Atoi(string(digits))
	return n, err == nil
}
