package inspect

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/projections"
)

// Detail is one named value of an event, as the timeline shows it.
type Detail struct {
	Name  string
	Value string
}

// TimelineItem is one event of a person's history: what happened, who
// recorded it for which organisation, when it happened and when it was
// recorded, where it came from, and its place in the hash chain.
type TimelineItem struct {
	Position uint64
	Revision uint64
	// Type is the stored event type; Title says it in words.
	Type  string
	Title string
	// OccurredAt and RecordedAt are in the Inspector's location.
	OccurredAt time.Time
	RecordedAt time.Time
	// Late: recorded more than a day after it happened.
	Late         bool
	UserID       string
	Role         string
	Organisation string
	Source       string
	Command      string
	Hash         string
	// Details are the event's own values (prison, kind, dates, reasons).
	Details []Detail
	// EnvelopeError says why the event's metadata could not be read.
	EnvelopeError string
}

// PersonSummary is what the ledger holds about who the person is and where
// their journey stands now.
type PersonSummary struct {
	NOMS        string
	CRN         string
	PNC         string
	Custody     string
	Prison      string
	Responsible string
	ReleaseArea string
	Closed      bool
	// Revision is the stream's last revision; Events how many it holds.
	Revision int64
	Events   int
}

// TimelineView is a person and their whole history, newest first (the
// order of the MoJ timeline).
type TimelineView struct {
	Person PersonSummary
	Items  []TimelineItem
}

// lateAfter is how long after it happened an event may be recorded before
// the timeline calls it late.
const lateAfter = 24 * time.Hour

// Timeline reads the person's history: the audit trail for who, when and
// where from, and the events in the store for what. The read is recorded.
func (i *Inspector) Timeline(ctx context.Context, p auth.Principal, noms string) (TimelineView, error) {
	st, err := i.load(ctx, p, noms, projections.AuditName)
	if err != nil {
		return TimelineView{}, err
	}
	entries, err := projections.Trail(i.cfg.Runner, noms)
	if err != nil {
		return TimelineView{}, fmt.Errorf("inspect: trail of %s: %w", noms, err)
	}
	byRev := make(map[uint64]aggregates.Event, len(st.Events))
	for _, e := range st.Events {
		byRev[e.Revision] = e.Event
	}
	j := st.Journey
	v := TimelineView{Person: PersonSummary{NOMS: noms, CRN: j.CRN, PNC: j.PNC, Custody: string(j.Custody), Prison: j.Prison,
		Responsible: string(j.Responsible()), ReleaseArea: j.ReleaseArea, Closed: j.Closed, Revision: st.Revision(),
		Events: len(st.Events)}, Items: make([]TimelineItem, 0, len(entries))}
	loc := i.cfg.Location
	for _, e := range slices.Backward(entries) {
		it := TimelineItem{Position: e.Position, Revision: e.Revision, Type: e.Type, Title: Words(e.Type),
			OccurredAt: inLoc(e.OccurredAt, loc), RecordedAt: inLoc(e.RecordedAt, loc), UserID: e.UserID, Role: e.Role,
			Organisation: e.Organisation, Source: string(e.Source), Command: e.Command, Hash: e.Hash, EnvelopeError: e.EnvelopeError}
		if it.RecordedAt.IsZero() {
			it.RecordedAt = inLoc(e.StoredAt, loc)
		}
		it.Late = !e.OccurredAt.IsZero() && it.RecordedAt.Sub(e.OccurredAt) > lateAfter
		if ev, ok := byRev[e.Revision]; ok {
			it.Details = Details(ev, loc)
		}
		v.Items = append(v.Items, it)
	}
	if err := i.record(ctx, p, accessTrail, noms); err != nil {
		return TimelineView{}, err
	}
	return v, nil
}

func inLoc(t time.Time, loc *time.Location) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(loc)
}

// Words says a Go-style name in words: "PrisonerReceived" is "Prisoner
// received", "MAPPALevelSet" is "MAPPA level set", "prisonCode" is "Prison
// code". Acronyms keep their capitals.
func Words(name string) string {
	if name == "" {
		return ""
	}
	rs := []rune(name)
	var words []string
	start := 0
	for k := 1; k < len(rs); k++ {
		up, prevUp := unicode.IsUpper(rs[k]), unicode.IsUpper(rs[k-1])
		nextLower := k+1 < len(rs) && unicode.IsLower(rs[k+1])
		if up && (!prevUp || nextLower) {
			words = append(words, string(rs[start:k]))
			start = k
		}
	}
	words = append(words, string(rs[start:]))
	for k, w := range words {
		acronym := len(w) > 1 && strings.ToUpper(w) == w
		if a, ok := acronyms[strings.ToLower(w)]; ok {
			words[k] = a
			continue
		}
		switch {
		case acronym:
		case k == 0:
			r := []rune(w)
			r[0] = unicode.ToUpper(r[0])
			words[k] = string(r)
		default:
			words[k] = strings.ToLower(w)
		}
	}
	return strings.Join(words, " ")
}

// acronyms are the words Words spells in capitals however a name spells
// them ("crn" is CRN).
var acronyms = map[string]string{"crn": "CRN", "pnc": "PNC", "noms": "NOMS", "id": "ID", "mappa": "MAPPA", "rosh": "RoSH", "nps": "NPS"}

var (
	timeType = reflect.TypeFor[time.Time]()
	dateType = reflect.TypeFor[aggregates.Date]()
)

// Details lists an event's own values in the order its type declares them,
// named from their JSON names, leaving out what the timeline shows anyway
// (the person and when it happened) and what is empty.
func Details(ev aggregates.Event, loc *time.Location) []Detail {
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
	var out []Detail
	appendFields(&out, "", v, loc)
	return out
}

func appendFields(out *[]Detail, prefix string, v reflect.Value, loc *time.Location) {
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
		label := Words(name)
		if prefix != "" {
			label = prefix + ": " + strings.ToLower(label[:1]) + label[1:]
		}
		fv := v.Field(k)
		if fv.IsZero() {
			continue
		}
		switch {
		case fv.Type() == timeType:
			*out = append(*out, Detail{label, FormatTime(fv.Interface().(time.Time), loc)})
		case fv.Type() == dateType:
			*out = append(*out, Detail{label, FormatDate(fv.Interface().(aggregates.Date))})
		case fv.Kind() == reflect.Struct:
			appendFields(out, label, fv, loc)
		case fv.Kind() == reflect.Bool:
			*out = append(*out, Detail{label, "yes"})
		case fv.Kind() == reflect.Slice || fv.Kind() == reflect.Map:
			*out = append(*out, Detail{label, fmt.Sprint(fv.Interface())})
		case fv.Kind() == reflect.String:
			*out = append(*out, Detail{label, fv.String()})
		case fv.CanInt():
			*out = append(*out, Detail{label, strconv.FormatInt(fv.Int(), 10)})
		default:
			*out = append(*out, Detail{label, fmt.Sprint(fv.Interface())})
		}
	}
}

// FormatTime is how the inspector pages show a moment: "4 June 2024 at
// 10:00am" in loc (GOV.UK style); empty for the zero time.
func FormatTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2 January 2006 at 3:04pm")
}

// FormatDate is how the pages show a date: "30 September 2024".
func FormatDate(d aggregates.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.Time().Format("2 January 2006")
}
