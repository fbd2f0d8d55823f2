package labels

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gateledger/gateledger/aggregates"
)

// Field is one labelled value of an event's payload: "Release kind",
// "On licence".
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// fieldNames label payload fields whose JSON name alone reads badly. Other
// fields are named from their JSON name (Name), or, for a field holding an
// enum, from the enum's type ("kind" of a release is "Release kind").
var fieldNames = map[string]string{
	"prisonCode":             "Prison",
	"toPrisonCode":           "To prison",
	"fromPrisonCode":         "From prison",
	"movementReasonCode":     "NOMIS movement reason",
	"late":                   "Recorded late",
	"seq":                    "Handover number",
	"actionId":               "Action",
	"bookingId":              "Booking",
	"correctsEventId":        "Corrects event",
	"intoResettlementPrison": "Into a resettlement prison",
	"level":                  "Level",
	"pnc":                    "PNC number",
	"crn":                    "CRN",
}

var (
	timeType = reflect.TypeFor[time.Time]()
	dateType = reflect.TypeFor[aggregates.Date]()
)

// Fields lists an event's own values in the order its type declares them,
// each labelled, codes said in words, instants and dates in UK style;
// leaving out what a history shows anyway (the person, when it happened)
// and what is empty. Pages, downloads and the API's trail use it alike.
func Fields(ev aggregates.Event) []Field {
	v := reflect.ValueOf(ev)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	var out []Field
	appendFields(&out, "", v)
	return out
}

// FieldsText is Fields in one line: "Release kind: On licence; Prison: MDI".
func FieldsText(fs []Field) string {
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Name)
		b.WriteString(": ")
		b.WriteString(f.Value)
	}
	return b.String()
}

func appendFields(out *[]Field, prefix string, v reflect.Value) {
	t := v.Type()
	for k := range t.NumField() {
		f := t.Field(k)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" || (prefix == "" && (name == "nomsNumber" || name == "occurredAt")) {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fv := v.Field(k)
		if fv.IsZero() {
			continue
		}
		label, ok := fieldNames[name]
		if !ok {
			label = Name(name)
			// A field holding an enum of ours is named by its type when
			// its own name is generic ("kind", "status").
			if ft := fv.Type(); ft.Kind() == reflect.String && ft.PkgPath() != "" && (name == "kind" || name == "status") {
				label = Name(ft.Name())
			}
		}
		if prefix != "" {
			label = prefix + ": " + lowerFirst(label)
		}
		switch {
		case fv.Type() == timeType:
			*out = append(*out, Field{label, When(fv.Interface().(time.Time))})
		case fv.Type() == dateType:
			*out = append(*out, Field{label, Date(fv.Interface().(aggregates.Date))})
		case fv.Kind() == reflect.Struct:
			appendFields(out, label, fv)
		case fv.Kind() == reflect.Bool:
			*out = append(*out, Field{label, "Yes"})
		case fv.Kind() == reflect.String && fv.Type().PkgPath() != "":
			// A typed code: its label.
			*out = append(*out, Field{label, Of(fv.Interface())})
		case fv.Kind() == reflect.String && name == "reason":
			// Automatic handovers give their reason as a code.
			*out = append(*out, Field{label, Text(HandoverReasonOrText(fv.String()))})
		case fv.Kind() == reflect.String:
			*out = append(*out, Field{label, Text(fv.String())})
		case fv.CanInt():
			*out = append(*out, Field{label, strconv.FormatInt(fv.Int(), 10)})
		case fv.Kind() == reflect.Slice || fv.Kind() == reflect.Map:
			*out = append(*out, Field{label, fmt.Sprint(fv.Interface())})
		default:
			*out = append(*out, Field{label, fmt.Sprint(fv.Interface())})
		}
	}
}

// HandoverReasonOrText is the label of s when it is a handover reason code,
// else s as written (a reason someone typed).
func HandoverReasonOrText(s string) string {
	if l, ok := table[handoverReason(s)]; ok {
		return l
	}
	return s
}
