package pages

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/journeys"
	"github.com/gateledger/gateledger/ledger"
	"github.com/gateledger/gateledger/web"
)

// Forms send journey commands through the API's own decoding, validation,
// authorisation and decision (web.DecodeCommand, ledger.Command): a form is
// turned into the JSON body the API route takes, and the API's field errors
// come back as the GOV.UK error summary against the form's inputs.
//
// Each form carries a random idempotency key (hidden field "idem"), scoped
// to the principal, so that a form submitted twice (a double click, a
// resubmission after a lost answer) records its events once. After a
// command the browser is redirected (post/redirect/get) to a page that
// waits for the read models to reach the command's position ("at").

// form is a form's values as the user sent them (or as first shown).
type form struct {
	values url.Values
	// Idem is the form's idempotency key.
	Idem string
}

// newForm is an empty form with a fresh key.
func newForm() *form { return &form{values: url.Values{}, Idem: randomToken()} }

// formFrom reads a posted form (already parsed by the forgery check).
func formFrom(r *http.Request) *form {
	f := &form{values: r.PostForm, Idem: r.PostFormValue("idem")}
	if f.values == nil {
		f.values = url.Values{}
	}
	if f.Idem == "" || len(f.Idem) > 64 {
		f.Idem = randomToken()
	}
	return f
}

// V is the value of a field, trimmed.
func (f *form) V(name string) string { return strings.TrimSpace(f.values.Get(name)) }

// Set sets a field's value (for the values first shown).
func (f *form) Set(name, value string) { f.values.Set(name, value) }

// Checked reports whether a radio or checkbox field has value.
func (f *form) Checked(name, value string) bool { return f.values.Get(name) == value }

// setNow fills the date-and-time inputs prefix-day, -month, -year and -time
// with now in UK time.
func (f *form) setNow(prefix string, now time.Time) {
	t := now.In(aggregates.UK)
	f.Set(prefix+"-day", strconv.Itoa(t.Day()))
	f.Set(prefix+"-month", strconv.Itoa(int(t.Month())))
	f.Set(prefix+"-year", strconv.Itoa(t.Year()))
	f.Set(prefix+"-time", t.Format("15:04"))
}

// problems gathers a form's field errors in the order of the form.
type problems struct{ errs []fieldError }

func (p *problems) add(field, anchor, msg string) {
	for _, e := range p.errs {
		if e.Field == field {
			return
		}
	}
	p.errs = append(p.errs, fieldError{Field: field, Anchor: anchor, Message: msg})
}

// date reads a GOV.UK date input (prefix-day, -month, -year). Empty is the
// zero date, unless required.
func (f *form) date(p *problems, prefix, label string, required bool) (aggregates.Date, bool) {
	d, m, y := f.V(prefix+"-day"), f.V(prefix+"-month"), f.V(prefix+"-year")
	if d == "" && m == "" && y == "" {
		if required {
			p.add(prefix, prefix+"-day", "Enter "+label)
		}
		return aggregates.Date{}, !required
	}
	anchor := prefix + "-day"
	switch {
	case d == "":
		p.add(prefix, anchor, capitalise(label)+" must include a day")
		return aggregates.Date{}, false
	case m == "":
		p.add(prefix, prefix+"-month", capitalise(label)+" must include a month")
		return aggregates.Date{}, false
	case y == "":
		p.add(prefix, prefix+"-year", capitalise(label)+" must include a year")
		return aggregates.Date{}, false
	}
	dn, err1 := strconv.Atoi(d)
	mn, err2 := strconv.Atoi(m)
	yn, err3 := strconv.Atoi(y)
	if err1 != nil || err2 != nil || err3 != nil || yn < 1900 || yn > 2200 || mn < 1 || mn > 12 || dn < 1 || dn > 31 {
		p.add(prefix, anchor, capitalise(label)+" must be a real date")
		return aggregates.Date{}, false
	}
	t := time.Date(yn, time.Month(mn), dn, 0, 0, 0, 0, time.UTC)
	if t.Day() != dn {
		p.add(prefix, anchor, capitalise(label)+" must be a real date")
		return aggregates.Date{}, false
	}
	return aggregates.NewDate(yn, time.Month(mn), dn), true
}

// when reads a date input and its time input (prefix-time, 24-hour HH:MM,
// UK time) as an instant, in the API's RFC 3339 form.
func (f *form) when(p *problems, prefix, label string) string {
	d, ok := f.date(p, prefix, label, true)
	if !ok {
		return ""
	}
	hm := f.V(prefix + "-time")
	if hm == "" {
		p.add(prefix, prefix+"-time", "Enter the time of "+strings.TrimPrefix(label, "the date of "))
		return ""
	}
	t, err := time.ParseInLocation("15:04", strings.ReplaceAll(hm, ".", ":"), aggregates.UK)
	if err != nil {
		p.add(prefix, prefix+"-time", "Enter the time as hours and minutes on the 24-hour clock, like 14:30")
		return ""
	}
	at := time.Date(d.Year, d.Month, d.Day, t.Hour(), t.Minute(), 0, 0, aggregates.UK)
	return at.UTC().Format(time.RFC3339)
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// commandForm is one command sent from a form.
type commandForm struct {
	// Name is the API command's name (operationId), e.g. "ReceivePrisoner".
	Name string
	// Target is the person (and pathway or action).
	Target web.CommandTarget
	// Body is the API route's JSON body.
	Body map[string]any
	// Fields maps the API's field names to the form's: the error's field
	// and the input its summary links to. A field not in the map keeps its
	// name for both.
	Fields map[string][2]string
}

// errRefused: the command was refused for a reason the form shows.
var errRefused = errors.New("pages: command refused")

// send decodes, authorises and runs the command for the session's
// principal, with the form's idempotency key. A refusal the user can act on
// (bad values, a broken journey rule, a stale form) is returned as field
// errors with errRefused; other errors (not found, forbidden, unavailable)
// are returned for the error page.
func (s *server) send(r *http.Request, sess *session, f *form, c commandForm) (journeys.Result, []fieldError, error) {
	body, err := json.Marshal(c.Body)
	if err != nil {
		return journeys.Result{}, nil, err
	}
	cmd, err := web.DecodeCommand(c.Name, c.Target, body)
	if err == nil {
		key := "ui:" + sess.principal.ID + ":" + f.Idem
		var res journeys.Result
		res, err = s.cfg.Ledger.Command(r.Context(), sess.principal, c.Target.NOMS, cmd,
			ledger.CommandOptions{Source: aggregates.SourceUI, IdempotencyKey: key, CorrelationID: "ui-" + f.Idem})
		if err == nil {
			return res, nil, nil
		}
	}
	status, detail, rule, fields := web.FieldErrors(err)
	switch {
	case errors.Is(err, auth.ErrNotFound), errors.Is(err, auth.ErrForbidden), status >= 500:
		return journeys.Result{}, nil, err
	case errors.Is(err, journeys.ErrIdempotencyKeyReused):
		// The same form was sent again with other values: give it a new key.
		f.Idem = randomToken()
		return journeys.Result{}, []fieldError{{Message: "This form was already used. Check the values and send it again."}}, errRefused
	}
	var out []fieldError
	for _, fe := range fields {
		name, anchor := fe.Field, fe.Field
		if m, ok := c.Fields[fe.Field]; ok {
			name, anchor = m[0], m[1]
		}
		msg := sentence(fe.Message, fe.Field)
		if m, ok := ruleMessages[rule]; ok {
			msg = m
		} else if rule != "" && rule != "invalid-value" {
			// Beside the field, what to do next is what helps.
			msg = strings.TrimSuffix(capitalise(detail), ".") + "."
		}
		out = append(out, fieldError{Field: name, Anchor: anchor, Message: msg})
	}
	if len(out) == 0 {
		msg, ok := ruleMessages[rule]
		if !ok {
			// The API's detail: what the rule found, in words, and what to
			// do next (labels.Rule).
			msg = capitalise(detail)
		}
		out = []fieldError{{Message: msg}}
	}
	return journeys.Result{}, out, errRefused
}

// sentence turns an API field message ("is required") into one a form can
// show on its own ("at is required" reads badly, so the field is named
// only where the message needs it).
func sentence(msg, field string) string {
	if strings.HasPrefix(msg, "is ") || strings.HasPrefix(msg, "must ") {
		name := field
		if i := strings.LastIndex(name, "."); i >= 0 {
			name = name[i+1:]
		}
		label, ok := fieldLabels[name]
		if !ok {
			label = strings.ToLower(words(camelToWords(name)))
		}
		return fmt.Sprintf("The %s %s", label, msg)
	}
	return capitalise(msg)
}

// ruleMessages say, for the journey rules most often met from a form, what
// to do in the form's own words; other rules show the API's detail: what the
// rule found and what to do next (labels.Rule, one table for both).
var ruleMessages = map[string]string{
	"no-future-facts":    "The date and time must be now or in the past",
	"requires-reception": "There is no reception recorded for this person",
	"journey-closed":     "This person's journey is closed",
}

// fieldLabels name the API's fields in messages.
var fieldLabels = map[string]string{
	"noms":   "prison number",
	"prison": "prison code",
	"kind":   "type",
	"at":     "date and time",
}

// camelToWords turns "confirmedReleaseDate" into "CONFIRMED_RELEASE_DATE",
// the form words() reads.
func camelToWords(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' && i > 0 {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// afterCommand redirects (303) to path, asking the page to wait for the
// command's position and to say what was done.
// sendStep records the command a step's form f was read into, for the person noms. A form
// with problems, or one the ledger refuses, is shown again, through again, with the
// errors; a recorded one goes on to next, or to fallback when the user can no longer
// read the person (after a transfer out, say).
func (s *server) sendStep(w http.ResponseWriter, r *http.Request, sess *session, f *form, c commandForm, p *problems,
	noms, next, fallback, done string, again func(errs []fieldError)) error {
	if len(p.errs) > 0 {
		again(p.errs)
		return nil
	}
	res, errs, err := s.send(r, sess, f, c)
	switch {
	case errors.Is(err, errRefused):
		again(errs)
		return nil
	case err != nil:
		return err
	}
	if !auth.CanReadJourney(sess.principal, res.Journey) {
		next = fallback
	}
	afterCommand(w, r, next, res, done)
	return nil
}

// What a command did, as the redirect after it says ("outcome"), so the
// page's message tells the truth.
const (
	// outcomeHistory: every event recorded is late history (dated before the
	// latest movement): the person's current state did not change.
	outcomeHistory = "history"
	// outcomeUnchanged: nothing was recorded; the journey already showed it.
	outcomeUnchanged = "unchanged"
)

// outcomeOf says what res did: "" for a change to the current state.
func outcomeOf(res journeys.Result) string {
	if !res.Recorded() {
		return outcomeUnchanged
	}
	for _, e := range res.Events {
		if !isLate(e.Event) {
			return ""
		}
	}
	return outcomeHistory
}

// isLate reports whether ev is marked as late history (its Late field, which
// the movements that can arrive out of order carry).
func isLate(ev aggregates.Event) bool {
	v := reflect.Indirect(reflect.ValueOf(ev))
	if v.Kind() != reflect.Struct {
		return false
	}
	f := v.FieldByName("Late")
	return f.IsValid() && f.Kind() == reflect.Bool && f.Bool()
}

func afterCommand(w http.ResponseWriter, r *http.Request, path string, res journeys.Result, done string) {
	q := url.Values{}
	if o := outcomeOf(res); o != "" && done != "" {
		q.Set("outcome", o)
	}
	if res.Position.Commit > 0 {
		q.Set("at", strconv.FormatUint(res.Position.Commit, 10))
	}
	if done != "" {
		q.Set("done", done)
	}
	http.Redirect(w, r, path+"?"+q.Encode(), http.StatusSeeOther)
}
