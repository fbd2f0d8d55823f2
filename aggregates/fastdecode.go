package aggregates

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"
)

// Decoding payloads with encoding/json was about a tenth of a projections
// rebuild, nearly all of it reflection and the validation pre-pass. The
// payloads the ledger writes are flat objects of strings, booleans, integers,
// instants and dates (and one nested object of dates), so each event type gets
// a field table, built once from its struct when the package initialises, and
// one pass over the bytes fills the struct through it. The pass accepts only
// input whose meaning under encoding/json is plain: exact key names, each once,
// strings without escapes in valid UTF-8, integers without fraction or
// exponent, instants and dates in the form the ledger writes, and nothing after
// the object. Everything else (an unknown key or one differing only in case, a
// repeated key, an escape, a type mismatch, invalid JSON) makes it report
// false, and the caller decodes with encoding/json instead, so a payload always
// gives exactly what json.Unmarshal gives, errors included.

// fieldKind is how a field's JSON value is read.
type fieldKind uint8

const (
	kindString fieldKind = iota // string and named string types
	kindBool
	kindInt
	kindTime   // time.Time: an instant (see ParseInstant)
	kindDate   // Date: "YYYY-MM-DD" or ""
	kindObject // a nested struct with a shape of its own
)

// shapeField is one decodable field of a struct.
type shapeField struct {
	name   string // the JSON key, matched exactly
	kind   fieldKind
	offset uintptr
	sub    *shape // for kindObject
}

// shape is the field table of a struct type. It is immutable once built.
type shape struct{ fields []shapeField }

var (
	timeType            = reflect.TypeFor[time.Time]()
	dateType            = reflect.TypeFor[Date]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// shapeOf builds the field table of struct type t, or returns nil when t has
// something the single pass does not read as encoding/json would (embedded
// fields, the ",string" option, other unmarshalers, maps, slices, floats...).
// A nil shape means every payload of t goes to encoding/json.
func shapeOf(t reflect.Type) *shape {
	if t.Kind() != reflect.Struct || t.NumField() > 64 || unmarshals(t) {
		return nil
	}
	sh := &shape{}
	names := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			return nil
		}
		if !f.IsExported() {
			continue // encoding/json ignores it; its name as a key is unknown
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		for opts != "" {
			var opt string
			opt, opts, _ = strings.Cut(opts, ",")
			if opt == "string" {
				return nil
			}
		}
		if name == "" {
			name = f.Name
		}
		for _, c := range []byte(name) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
				return nil // encoding/json has its own rules for other tag names
			}
		}
		if names[name] {
			return nil // conflicting names: encoding/json drops both
		}
		names[name] = true
		sf := shapeField{name: name, offset: f.Offset}
		ft := f.Type
		switch {
		case ft == timeType:
			sf.kind = kindTime
		case ft == dateType:
			sf.kind = kindDate
		case unmarshals(ft):
			return nil
		case ft.Kind() == reflect.String:
			sf.kind = kindString
		case ft.Kind() == reflect.Bool:
			sf.kind = kindBool
		case ft.Kind() == reflect.Int && ft.Size() == 8:
			sf.kind = kindInt
		case ft.Kind() == reflect.Struct:
			if sf.sub = shapeOf(ft); sf.sub == nil {
				return nil
			}
			sf.kind = kindObject
		default:
			return nil
		}
		sh.fields = append(sh.fields, sf)
	}
	return sh
}

// unmarshals reports whether encoding/json would hand values of t to t's own
// method rather than read them by kind.
func unmarshals(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(jsonUnmarshalerType) || p.Implements(jsonUnmarshalerType) ||
		t.Implements(textUnmarshalerType) || p.Implements(textUnmarshalerType)
}

// decode fills the struct at p (of the type sh was built from, zero on entry)
// from b and reports whether it could; on false, *p is partly written.
//
// The writes go through p plus the offsets reflect gave for that type, each as
// a pointer to the field's own type (string kinds as *string, whose layout a
// named string shares), which is why p must point to a value of exactly that
// type: codecFor guarantees it by building the table from the type parameter
// it decodes into.
func (sh *shape) decode(b []byte, p unsafe.Pointer) bool {
	d := payloadScanner{s: b}
	d.ws()
	if !d.object(sh, p) {
		return false
	}
	d.ws()
	return d.i == len(d.s)
}

type payloadScanner struct {
	s []byte
	i int
}

func (d *payloadScanner) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *payloadScanner) eat(c byte) bool {
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *payloadScanner) literal(lit string) bool {
	if len(d.s)-d.i >= len(lit) && string(d.s[d.i:d.i+len(lit)]) == lit {
		d.i += len(lit)
		return true
	}
	return false
}

func (d *payloadScanner) object(sh *shape, p unsafe.Pointer) bool {
	if !d.eat('{') {
		return false
	}
	d.ws()
	if d.eat('}') {
		return true
	}
	var seen uint64
	for {
		// Keys are compared with ASCII names, so a key with other bytes
		// matches none and is left to encoding/json whatever it holds.
		key, _, ok := d.plainString()
		if !ok {
			return false
		}
		k := -1
		for j := range sh.fields {
			if sh.fields[j].name == string(key) {
				k = j
				break
			}
		}
		if k < 0 || seen&(1<<k) != 0 {
			return false
		}
		seen |= 1 << k
		d.ws()
		if !d.eat(':') {
			return false
		}
		d.ws()
		if !d.value(&sh.fields[k], unsafe.Add(p, sh.fields[k].offset)) {
			return false
		}
		d.ws()
		if d.eat(',') {
			d.ws()
			continue
		}
		return d.eat('}')
	}
}

// value reads one value into the field at p. A null leaves every kind of field
// as it is (time.Time and Date read null as "nothing", a struct ignores it), and
// the field is still zero because repeated keys are refused.
func (d *payloadScanner) value(f *shapeField, p unsafe.Pointer) bool {
	if d.literal("null") {
		return true
	}
	switch f.kind {
	case kindString:
		v, high, ok := d.plainString()
		if !ok || high && !utf8.Valid(v) {
			return false // invalid UTF-8: encoding/json replaces it
		}
		// A string of its own for each field, as encoding/json allocates: the
		// journeys folded from events keep some of them for a long time, and a
		// substring of one copy of the payload would keep all of it.
		*(*string)(p) = string(v)
	case kindBool:
		switch {
		case d.literal("true"):
			*(*bool)(p) = true
		case d.literal("false"):
		default:
			return false
		}
	case kindInt:
		n, ok := d.integer()
		if !ok {
			return false
		}
		*(*int)(p) = n
	case kindTime:
		v, _, ok := d.plainString()
		if !ok {
			return false
		}
		t, ok := ParseInstant(v)
		if !ok {
			return false
		}
		*(*time.Time)(p) = t
	case kindDate:
		v, _, ok := d.plainString()
		if !ok {
			return false
		}
		if len(v) == 0 {
			return true // the absent date
		}
		dt, ok := parseDateOnly(v)
		if !ok {
			return false
		}
		*(*Date)(p) = dt
	case kindObject:
		return d.object(f.sub, p)
	default:
		return false
	}
	return true
}

// plainString reads a JSON string with no escapes and no control characters
// and returns its bytes, which may be any UTF-8 or none; high reports bytes
// outside ASCII.
func (d *payloadScanner) plainString() (v []byte, high, ok bool) {
	if !d.eat('"') {
		return nil, false, false
	}
	for i := d.i; i < len(d.s); i++ {
		switch c := d.s[i]; {
		case c == '"':
			v, d.i = d.s[d.i:i], i+1
			return v, high, true
		case c == '\\' || c < 0x20:
			return nil, false, false
		case c >= utf8.RuneSelf:
			high = true
		}
	}
	return nil, false, false
}

// integer reads an integer in plain form: an optional minus and at most 18
// digits with no leading zero, so that it cannot overflow. A fraction or an
// exponent after it is caught by the caller, which expects ',' or '}' next.
func (d *payloadScanner) integer() (int, bool) {
	neg := d.eat('-')
	start := d.i
	n := 0
	for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' && d.i-start < 18 {
		n = n*10 + int(d.s[d.i]-'0')
		d.i++
	}
	digits := d.i - start
	if digits == 0 || (digits > 1 && d.s[start] == '0') {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// parseDateOnly reads "YYYY-MM-DD" as ParseDate does when it succeeds, and
// reports false for anything else.
func parseDateOnly(s []byte) (Date, bool) {
	if len(s) != len("2006-01-02") || s[4] != '-' || s[7] != '-' {
		return Date{}, false
	}
	y, m, dd := digits(s, 0, 4), digits(s, 5, 2), digits(s, 8, 2)
	if y < 0 || m < 1 || m > 12 || dd < 1 || dd > daysIn(time.Month(m), y) {
		return Date{}, false
	}
	return Date{Year: y, Month: time.Month(m), Day: dd}, true
}
