package loadtest

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// decodeWire reads the fields of wireMessage the subscriber's read loop
// needs (type, position, correlationId) from a server message. The feed's
// messages are compact JSON objects; decodeWire walks the top level once,
// skipping every other value (an event's data) without decoding it, instead
// of the reflection-driven json.Unmarshal, which in a run with thousands of
// subscribers in the process costs more than the server does. Anything it
// does not recognise plainly (an escape in a string it reads, a position
// that is not a plain number, malformed JSON) is decoded by json.Unmarshal
// instead, so the result is the same as json.Unmarshal's for every message
// the server sends.
func decodeWire(b []byte, m *wireMessage) error {
	if fastWire(b, m) {
		return nil
	}
	*m = wireMessage{}
	return json.Unmarshal(b, m)
}

// fastWire is decodeWire's walk; false: use json.Unmarshal.
func fastWire(b []byte, m *wireMessage) bool {
	*m = wireMessage{}
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		key, j, ok := plainString(b, i)
		if !ok {
			return false
		}
		i = skipSpace(b, j)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		var end int
		switch string(key) {
		case "type", "correlationId":
			s, j, ok := plainString(b, i)
			if !ok {
				return false
			}
			if string(key) == "type" {
				m.Type = string(s)
			} else {
				m.CorrelationID = string(s)
			}
			end = j
		case "position":
			j := i
			for j < len(b) && b[j] >= '0' && b[j] <= '9' {
				j++
			}
			p, err := strconv.ParseUint(string(b[i:j]), 10, 64)
			if err != nil || (j-i > 1 && b[i] == '0') {
				return false
			}
			m.Position = p
			end = j
		default:
			for _, k := range wireKeys {
				if bytes.EqualFold(key, []byte(k)) {
					return false // from, or another spelling json matches
				}
			}
			j, ok := skipValue(b, i)
			if !ok || j == i {
				return false
			}
			end = j
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return skipSpace(b, i+1) == len(b)
		default:
			return false
		}
	}
}

// wireKeys are wireMessage's keys; json.Unmarshal matches them in any case.
var wireKeys = []string{"type", "position", "from", "correlationId"}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a string without escapes at b[i]: its contents and the
// index after its closing quote.
func plainString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	n := bytes.IndexByte(b[i+1:], '"')
	if n < 0 {
		return nil, 0, false
	}
	s := b[i+1 : i+1+n]
	for _, c := range s {
		if c == '\\' || c < 0x20 {
			return nil, 0, false
		}
	}
	return s, i + 2 + n, true
}

// skipValue returns the index just after the JSON value at b[i]. It checks
// the structure (strings, nesting) but not every literal; the value is
// never used.
func skipValue(b []byte, i int) (int, bool) {
	depth := 0
	for i < len(b) {
		switch c := b[i]; c {
		case '"':
			i++
			for i < len(b) && b[i] != '"' {
				if b[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(b) {
				return 0, false
			}
			i++
		case '{', '[':
			depth++
			i++
		case '}', ']':
			if depth == 0 {
				return i, true
			}
			depth--
			i++
		case ',':
			if depth == 0 {
				return i, true
			}
			i++
		default:
			i++
		}
		if depth == 0 && i < len(b) && (b[i] == ',' || b[i] == '}') {
			return i, true
		}
	}
	return 0, false
}
