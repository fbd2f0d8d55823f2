package eventlog

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gateledger/gateledger/aggregates"
)

// DecodeMetadata parses a stored envelope. Read models parse one per event, and
// encoding/json's reflection was a fifth of a rebuild's time, so the envelope's flat
// shape (string fields, one integer) is scanned here directly. Anything the scanner does
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
	var m Metadata
	if scanMetadata(raw, &m, in) {
		return m, nil
	}
	m = Metadata{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return Metadata{}, err
	}
	return m, nil
}

// scanMetadata fills m from a JSON object of known string keys with string values and
// an integer schemaVersion; it reports false for anything else.
func scanMetadata(b []byte, m *Metadata, in *Interner) bool {
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
	seen := 0
	for {
		s.ws()
		key, ok := s.str(nil)
		if !ok {
			return false
		}
		s.ws()
		if !s.eat(':') {
			return false
		}
		s.ws()
		bit := 0
		switch key {
		case "schemaVersion":
			n, ok := s.int()
			if !ok {
				return false
			}
			m.SchemaVersion, bit = n, 1
		default:
			var pool *Interner // only the values that repeat across envelopes
			switch key {
			case "userId", "role", "organisation", "source", "command":
				pool = in
			}
			v, ok := s.str(pool)
			if !ok {
				return false
			}
			switch key {
			case "userId":
				m.UserID, bit = v, 2
			case "role":
				m.Role, bit = v, 4
			case "organisation":
				m.Organisation, bit = v, 8
			case "occurredAt", "recordedAt":
				t, err := time.Parse(time.RFC3339Nano, v)
				if err != nil {
					return false
				}
				if key == "occurredAt" {
					m.OccurredAt, bit = t, 16
				} else {
					m.RecordedAt, bit = t, 32
				}
			case "source":
				m.Source, bit = aggregates.Source(v), 64
			case "correlationId":
				m.CorrelationID, bit = v, 128
			case "causationId":
				m.CausationID, bit = v, 256
			case "idempotencyKey":
				m.IdempotencyKey, bit = v, 512
			case "previousHash":
				m.PreviousHash, bit = v, 1024
			case "hash":
				m.Hash, bit = v, 2048
			case "command":
				m.Command, bit = v, 4096
			case "commandDigest":
				m.CommandDigest, bit = v, 8192
			default:
				return false // an unknown key: encoding/json knows how it would be treated
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
		return s.i == len(b)
	}
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

// str reads a JSON string. Strings without escapes (all the ledger writes) are taken
// as they are, through the interner when one is given; escapes are decoded by the
// rules of RFC 8259.
func (s *scanner) str(in *Interner) (string, bool) {
	if !s.eat('"') {
		return "", false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			if !utf8.Valid(v) {
				return "", false // encoding/json replaces invalid bytes: let it
			}
			return in.intern(v), true
		case c == '\\':
			return s.escaped(start)
		case c < 0x20:
			return "", false
		}
		s.i++
	}
	return "", false
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
