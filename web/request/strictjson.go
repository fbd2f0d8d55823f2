package request

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gateledger/gateledger/web/problem"
)

// checkStrict walks body, one JSON value, beside the Go type t it is about to
// be decoded into, and refuses what encoding/json would quietly accept:
//
//   - a member name given twice in one object (encoding/json keeps the last,
//     so two readers of the same body could see two different commands);
//   - a member name that matches a field only when case is ignored
//     ("NOMS" for "noms"): encoding/json matches names case-insensitively;
//   - invalid UTF-8 in a string or member name, and \u escapes of unpaired
//     UTF-16 surrogates (encoding/json turns both into U+FFFD, so the stored
//     text would differ from what was sent).
//
// The refusal is a malformed-request problem naming the field (dotted for
// nested members, "dates.confirmedReleaseDate", with [i] for array elements).
// Syntax errors are left to the decoder that follows, which reports them
// with their offset: checkStrict then returns nil.
func checkStrict(body []byte, t reflect.Type) error {
	w := strictWalker{dec: json.NewDecoder(bytes.NewReader(body)), body: body}
	w.dec.UseNumber()
	err := w.value("", t)
	if err == errStrictSyntax {
		return nil
	}
	return err
}

// errStrictSyntax stops the walk at a syntax error, which the decoder after
// it reports.
var errStrictSyntax = &problem.Error{Kind: problem.MalformedRequest, Detail: "syntax"}

type strictWalker struct {
	dec  *json.Decoder
	body []byte
}

// next reads one token and returns it with its raw bytes (and the separator
// and white space before it, which are ASCII).
func (w *strictWalker) next() (json.Token, []byte, error) {
	start := w.dec.InputOffset()
	tok, err := w.dec.Token()
	if err != nil {
		return nil, nil, errStrictSyntax
	}
	return tok, w.body[start:w.dec.InputOffset()], nil
}

func (w *strictWalker) value(path string, t reflect.Type) error {
	tok, raw, err := w.next()
	if err != nil {
		return err
	}
	switch tok := tok.(type) {
	case json.Delim:
		switch tok {
		case '{':
			return w.object(path, t)
		case '[':
			return w.array(path, t)
		}
		return errStrictSyntax
	case string:
		if !validJSONString(raw) {
			return strictProblem(path, "is not valid UTF-8 text; send text encoded as UTF-8")
		}
	}
	return nil
}

func (w *strictWalker) object(path string, t reflect.Type) error {
	fields := structFieldsOf(t)
	seen := map[string]bool{}
	for w.dec.More() {
		tok, raw, err := w.next()
		if err != nil {
			return err
		}
		name, ok := tok.(string)
		if !ok {
			return errStrictSyntax
		}
		field := joinField(path, name)
		if !validJSONString(raw) {
			return strictProblem(field, "is a member name that is not valid UTF-8; send names encoded as UTF-8")
		}
		if seen[name] {
			return strictProblem(field, "appears more than once; send each field once")
		}
		seen[name] = true
		var elem reflect.Type
		switch {
		case fields != nil:
			if f, ok := fields.exact[name]; ok {
				elem = f
			} else if want, ok := fields.folded(name); ok {
				return strictProblem(field, "is not a field: names are case-sensitive; write it as %q", want)
			}
			// An unknown name is refused by the decoder (unknown field).
		case t != nil && t.Kind() == reflect.Map:
			elem = t.Elem()
		}
		if err := w.value(field, elem); err != nil {
			return err
		}
	}
	if _, _, err := w.next(); err != nil { // the closing '}'
		return err
	}
	return nil
}

func (w *strictWalker) array(path string, t reflect.Type) error {
	var elem reflect.Type
	if t = deref(t); t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && !t.Implements(unmarshalerType) {
		elem = t.Elem()
	}
	for i := 0; w.dec.More(); i++ {
		if err := w.value(path+"["+strconv.Itoa(i)+"]", elem); err != nil {
			return err
		}
	}
	if _, _, err := w.next(); err != nil { // the closing ']'
		return err
	}
	return nil
}

func strictProblem(field, format string, args ...any) error {
	if field == "" {
		field = "body"
	}
	msg := fmt.Sprintf(format, args...)
	p := problem.New(problem.MalformedRequest, "field %s %s", field, msg)
	p.Fields = []problem.FieldError{{Field: field, Message: msg}}
	return p
}

func joinField(path, name string) string {
	if name == "" {
		name = `""` // a member with an empty name
	}
	if path == "" {
		return name
	}
	return path + "." + name
}

// validJSONString reports whether the raw bytes of a string token are valid
// UTF-8 and every \u escape of a UTF-16 surrogate is one half of a pair.
func validJSONString(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	pendingHigh := false
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' || i+1 >= len(raw) {
			if pendingHigh {
				return false
			}
			continue
		}
		i++
		if raw[i] != 'u' || i+4 >= len(raw) {
			if pendingHigh {
				return false
			}
			continue
		}
		r, err := strconv.ParseUint(string(raw[i+1:i+5]), 16, 16)
		if err != nil {
			return false // the decoder refused it already; be safe
		}
		i += 4
		switch {
		case r >= 0xD800 && r < 0xDC00:
			if pendingHigh {
				return false
			}
			pendingHigh = true
		case r >= 0xDC00 && r < 0xE000:
			if !pendingHigh {
				return false
			}
			pendingHigh = false
		default:
			if pendingHigh {
				return false
			}
		}
	}
	return !pendingHigh
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// structFields are the JSON member names of a struct type, as encoding/json
// sees them (promoted fields of embedded structs included).
type structFields struct {
	exact map[string]reflect.Type
	fold  map[string]string // lower-cased name -> name
}

func (f *structFields) folded(name string) (string, bool) {
	want, ok := f.fold[strings.ToLower(name)]
	if ok {
		return want, true
	}
	// encoding/json folds more than ToLower does (the Kelvin sign, the long
	// s): compare every name as it does.
	for n := range f.exact {
		if strings.EqualFold(n, name) {
			return n, true
		}
	}
	return "", false
}

// fieldCache holds structFields per type: the command bodies are a fixed set
// of types, so the cache is bounded by the program, not by requests.
var fieldCache sync.Map // reflect.Type -> *structFields

// structFieldsOf returns the fields of t (through pointers), or nil when t is
// not a struct decoded member by member.
func structFieldsOf(t reflect.Type) *structFields {
	t = deref(t)
	if t == nil || t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f := &structFields{exact: map[string]reflect.Type{}, fold: map[string]string{}}
	collectFields(t, f, 0)
	fieldCache.Store(t, f)
	return f
}

func collectFields(t reflect.Type, f *structFields, depth int) {
	if depth > 8 {
		return
	}
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" {
			if et := deref(sf.Type); et.Kind() == reflect.Struct {
				collectFields(et, f, depth+1)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if _, dup := f.exact[name]; dup {
			continue // the shallower field wins, as in encoding/json
		}
		f.exact[name] = sf.Type
		f.fold[strings.ToLower(name)] = name
	}
}
