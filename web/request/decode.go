package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/web/problem"
)

// Text limits of request fields, in bytes. Free text (summaries, reasons,
// notes) is bounded so that one event stays small; names and codes tighter.
const (
	maxText  = 4000
	maxShort = 200
)

// DecodeJSON reads exactly one JSON object from body into dst, refusing
// unknown fields, trailing data and values of the wrong type. The errors are
// *problem.Error (malformed-request, with the field when known), or the
// *http.MaxBytesError of a body over the limit.
//
// Before decoding, checkStrict refuses duplicate member names, names that
// match a field only when case is ignored, and invalid UTF-8, which
// encoding/json would accept.
func DecodeJSON(body io.Reader, dst any) error {
	b, err := io.ReadAll(body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return &problem.Error{Kind: problem.MalformedRequest, Detail: "the body could not be read; send it again", Err: err}
	}
	if err := checkStrict(b, reflect.TypeOf(dst)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeProblem(err)
	}
	// One value only: anything but white space after it is refused, so that
	// a body cannot smuggle a second command a proxy might read differently.
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return problem.New(problem.MalformedRequest, "the body must hold one JSON object and nothing after it")
	}
	return nil
}

func decodeProblem(err error) error {
	var (
		tooBig  *http.MaxBytesError
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooBig):
		return err
	case errors.Is(err, io.EOF):
		return problem.New(problem.MalformedRequest, "the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem.New(problem.MalformedRequest, "the body ends inside a JSON value")
	case errors.As(err, &syntax):
		return problem.New(problem.MalformedRequest, "invalid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			p := problem.New(problem.MalformedRequest, "the body must be a JSON object, not %s", typeErr.Value)
			return p
		}
		p := problem.New(problem.MalformedRequest, "field %s has the wrong type", field)
		p.Fields = []problem.FieldError{{Field: field, Message: fmt.Sprintf("must be %s, not %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)}}
		return p
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		field := strings.Trim(name, `"`)
		if field == "" {
			field = `""` // a member with an empty name
		}
		p := problem.New(problem.MalformedRequest, "unknown field %s", name)
		p.Fields = []problem.FieldError{{Field: field, Message: "unknown field"}}
		return p
	}
	return problem.New(problem.MalformedRequest, "the body cannot be read as JSON")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int64", "int32", "uint64":
		return "an integer"
	case "struct", "map":
		return "an object"
	case "slice":
		return "an array"
	case "ptr":
		return "a number"
	}
	return "another type"
}

// CheckJSONContentType refuses bodies that do not say they are JSON.
func CheckJSONContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return problem.New(problem.MediaType, "send Content-Type: application/json")
	}
	return nil
}

// Validator gathers field errors; its helpers return the parsed value (zero on
// error) so that a body's command can be built in one pass and every invalid
// field reported at once. The zero Validator is ready to use.
type Validator struct{ errs []problem.FieldError }

// Add records that field is invalid, with a message formatted from format
// and args that says what to send instead.
func (v *Validator) Add(field, format string, args ...any) {
	v.errs = append(v.errs, problem.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err is the validation problem of every field added (problem.Invalid), or
// nil when none was.
func (v *Validator) Err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return problem.Invalid(v.errs...)
}

// Text checks a free-text field: required or not, at most limit bytes, no
// control characters other than new lines and tabs.
func (v *Validator) Text(field, s string, required bool, limit int) string {
	switch {
	case s == "" && required:
		v.Add(field, "is required")
	case len(s) > limit:
		v.Add(field, "is longer than %d bytes", limit)
	case !utf8.ValidString(s):
		v.Add(field, "is not UTF-8")
	case strings.TrimSpace(s) == "" && s != "":
		v.Add(field, "is blank")
	default:
		for _, r := range s {
			if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
				v.Add(field, "contains a control character")
				break
			}
		}
	}
	return s
}

// Time parses an RFC 3339 timestamp with a zone offset.
func (v *Validator) Time(field, s string, required bool) time.Time {
	if s == "" {
		if required {
			v.Add(field, "is required (RFC 3339 time such as 2026-05-01T09:30:00Z)")
		}
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		v.Add(field, "is not an RFC 3339 time such as 2026-05-01T09:30:00Z")
		return time.Time{}
	}
	if t.Year() < 1900 || t.Year() > 2200 {
		v.Add(field, "is out of range")
		return time.Time{}
	}
	return t.UTC()
}

// Date parses a civil date YYYY-MM-DD.
func (v *Validator) Date(field, s string, required bool) aggregates.Date {
	if s == "" {
		if required {
			v.Add(field, "is required (YYYY-MM-DD)")
		}
		return aggregates.Date{}
	}
	d, err := aggregates.ParseDate(s)
	if err != nil || d.Year < 1900 || d.Year > 2200 {
		v.Add(field, "is not a date YYYY-MM-DD")
		return aggregates.Date{}
	}
	return d
}

// Ident checks an identifier against its published format (kind is an
// aggregates.ValidateIdentifier format name).
func (v *Validator) Ident(field, kind, s string, required bool) string {
	if s == "" {
		if required {
			v.Add(field, "is required")
		}
		return ""
	}
	if aggregates.ValidateIdentifier(kind, s) != nil {
		v.Add(field, "%s", identHelp(kind))
	}
	return s
}

func identHelp(kind string) string {
	switch kind {
	case "noms":
		return "is not a prison number such as A1234BC"
	case "prison":
		return "is not a three-letter prison code such as MDI"
	case "bookingId":
		return "is not a numeric NOMIS booking id"
	case "crn":
		return "is not a case reference number such as X123456"
	case "pnc":
		return "is not a PNC id such as 2012/394773H"
	case "providerCode":
		return "is not a contract package area C01-C21"
	case "releaseArea":
		return "is not a contract package area C01-C21 or (from 26 June 2021) a probation region NPS-A..NPS-L"
	case "correctsEventId":
		return "is not an event id (UUID)"
	case "actionId":
		return "is not an action id: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
	}
	return "has the wrong format"
}

// Org checks an organisation code (prison, CRC, NPS division or region).
func (v *Validator) Org(field, s string, required bool) aggregates.Org {
	if s == "" {
		if required {
			v.Add(field, "is required")
		}
		return ""
	}
	o := aggregates.Org(s)
	if !o.Valid() {
		v.Add(field, "is not an organisation code (a prison code such as MDI, C01-C21, N01-N07 or NPS-A..NPS-L)")
	}
	return o
}

// Enum checks s is one of the values valid accepts.
func (v *Validator) Enum(field, s string, valid bool, values string) {
	switch {
	case s == "":
		v.Add(field, "is required (one of %s)", values)
	case !valid:
		v.Add(field, "must be one of %s", values)
	}
}

// jsonBytes reads a command body from bytes as the API's handler does, for
// DecodeCommand, the tests and the fuzzers.
func jsonBytes(b []byte, dst any) error { return DecodeJSON(bytes.NewReader(b), dst) }
