package pages_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
)

// TestBrowserPrisonRecordsJourney: prison staff record an arrival, the
// screening, release dates and a release through the forms, meeting the
// GOV.UK error summary on bad input and on a broken journey rule.
func TestBrowserPrisonRecordsJourney(t *testing.T) {
	l := startLedger(t)
	b := newBrowser(t, l, "prison")
	b.signIn(auth.RolePrison, "MDI")
	b.page("people-empty")

	b.do(chromedp.Click(chromedp.CSS(`a[href="/prison/arrivals/new"].govuk-button`)), chromedp.WaitVisible(chromedp.ID("noms")))
	b.page("arrival-form")
	b.submit("main form button[type=submit]")
	b.page("arrival-empty")
	summary := b.text(".govuk-error-summary")
	for _, want := range []string{"Enter the prison number", "Select how they arrived"} {
		if !strings.Contains(summary, want) {
			t.Errorf("error summary lacks %q:\n%s", want, summary)
		}
	}
	b.do(chromedp.SetValue(chromedp.ID("noms"), "not-a-number"), chromedp.Click(chromedp.ID("kind")))
	b.submit("main form button[type=submit]")
	b.page("arrival-bad-number")
	if s := b.text(".govuk-error-summary"); !strings.Contains(s, "prison number") {
		t.Errorf("a malformed prison number is not reported against its field:\n%s", s)
	}
	b.do(chromedp.SetValue(chromedp.ID("noms"), "A1234BC"))
	b.submit("main form button[type=submit]")
	b.page("person-arrived")
	if n := b.text(".govuk-notification-banner"); !strings.Contains(n, "Arrival recorded") {
		t.Errorf("notice %q", n)
	}
	if c := b.text("#custody"); !strings.Contains(c, "In custody at MDI") {
		t.Errorf("custody: %s", c)
	}
	if d := b.text("#deadlines"); !strings.Contains(d, "Screening due") || !strings.Contains(d, "Due soon") {
		t.Errorf("deadlines: %s", d)
	}

	b.do(chromedp.Click(chromedp.CSS(`a[href$="/screening"]`)), chromedp.WaitVisible(chromedp.ID("at-day")))
	b.page("screening-form")
	b.submit("main form button[type=submit]")
	b.page("screened")
	if n := b.text(".govuk-notification-banner"); !strings.Contains(n, "Screening recorded") {
		t.Errorf("notice %q", n)
	}

	b.do(chromedp.Click(chromedp.CSS(`a[href$="/release-dates"]`)), chromedp.WaitVisible(chromedp.ID("confirmedReleaseDate-day")))
	b.page("release-dates-form")
	b.do(chromedp.SetValue(chromedp.ID("confirmedReleaseDate-day"), "31"), chromedp.SetValue(chromedp.ID("confirmedReleaseDate-month"), "2"),
		chromedp.SetValue(chromedp.ID("confirmedReleaseDate-year"), "2030"))
	b.submit("main form button[type=submit]")
	b.page("release-dates-bad")
	if s := b.text(".govuk-error-summary"); !strings.Contains(s, "must be a real date") {
		t.Errorf("summary: %s", s)
	}
	release := time.Now().AddDate(0, 2, 0)
	b.do(chromedp.SetValue(chromedp.ID("confirmedReleaseDate-day"), release.Format("2")),
		chromedp.SetValue(chromedp.ID("confirmedReleaseDate-month"), release.Format("1")),
		chromedp.SetValue(chromedp.ID("confirmedReleaseDate-year"), release.Format("2006")))
	b.submit("main form button[type=submit]")
	b.page("release-dates-recorded")
	if c := b.text("#custody"); !strings.Contains(c, release.Format("2 January 2006")) {
		t.Errorf("release date not shown: %s", c)
	}

	b.do(chromedp.Click(chromedp.CSS(`a[href$="/release"]`)), chromedp.WaitVisible(chromedp.ID("kind")))
	b.page("release-form")
	b.do(chromedp.Click(chromedp.ID("kind")), chromedp.SetValue(chromedp.ID("at-year"), time.Now().AddDate(1, 0, 0).Format("2006")))
	b.submit("main form button[type=submit]")
	b.page("release-in-the-future")
	if s := b.text(".govuk-error-summary"); !strings.Contains(s, "must be now or in the past") {
		t.Errorf("a release in the future is not explained:\n%s", s)
	}
	if s := b.text("#at-error"); !strings.Contains(s, "must be now or in the past") {
		t.Errorf("the date's own message: %s", s)
	}
	b.do(chromedp.SetValue(chromedp.ID("at-year"), time.Now().In(aggregates.UK).Format("2006")))
	b.submit("main form button[type=submit]")
	b.page("released")
	if c := b.text("#custody"); !strings.Contains(c, "Released from MDI") {
		t.Errorf("custody after release: %s", c)
	}
	b.visit("/prison/people", "people-after-release")
	if row := b.text(`tr[data-noms="A1234BC"]`); !strings.Contains(row, "Released") {
		t.Errorf("people row: %s", row)
	}
	b.narrow("people-after-release")
}

// TestFormIdempotency: a form sent twice records once; the same form key
// with other values is refused with a message, not recorded.
func TestFormIdempotency(t *testing.T) {
	l := startLedger(t)
	l.receive("A1234BC", "MDI")
	c := newClient(t, l)
	c.signIn(l.token(auth.RolePrison, "MDI"))
	form := c.do("GET", "/prison/people/A1234BC/screening", nil)
	if form.status != http.StatusOK {
		t.Fatalf("screening form: %d", form.status)
	}
	// An hour ago, with that hour's own date: just after midnight it is
	// yesterday's.
	now := time.Now().In(aggregates.UK)
	setAt := func(vals url.Values, at time.Time) {
		vals.Set("at-day", at.Format("2"))
		vals.Set("at-month", at.Format("1"))
		vals.Set("at-year", at.Format("2006"))
		vals.Set("at-time", at.Format("15:04"))
	}
	vals := url.Values{"csrf": {csrf(t, form)}, "idem": {"key-1"}}
	setAt(vals, now.Add(-time.Hour))
	version := func() int {
		st, err := l.svc.LoadStream(context.Background(), "A1234BC")
		if err != nil {
			t.Fatal(err)
		}
		return st.Journey.Version
	}
	before := version()
	for i := range 2 {
		if r := c.do("POST", "/prison/people/A1234BC/screening", vals); r.status != http.StatusSeeOther {
			t.Fatalf("send %d: %d\n%s", i, r.status, r.body)
		}
	}
	if got := version(); got != before+1 {
		t.Errorf("journey version %d after the same form twice, want %d", got, before+1)
	}
	setAt(vals, now.Add(-2*time.Hour))
	r := c.do("POST", "/prison/people/A1234BC/screening", vals)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "already used") {
		t.Errorf("other values under the same key: %d", r.status)
	}
	if got := version(); got != before+1 {
		t.Errorf("journey version %d, want %d", got, before+1)
	}
	// Another prison cannot open or send the form: the person is "not found".
	other := newClient(t, l)
	other.signIn(l.token(auth.RolePrison, "LEI"))
	if r := other.do("GET", "/prison/people/A1234BC/screening", nil); r.status != http.StatusNotFound {
		t.Errorf("another prison's form: %d, want 404", r.status)
	}
	if r := other.do("GET", "/prison/people/A1234BC", nil); r.status != http.StatusNotFound {
		t.Errorf("another prison's person page: %d, want 404", r.status)
	}
}

// TestCustodyEndForm: a prison records that custody ended without a release
// (here, unlawfully at large); the person page then says where the person
// stands, in words, and the prison keeps sight of the case.
func TestCustodyEndForm(t *testing.T) {
	l := startLedger(t)
	l.receive("A1234BC", "MDI")
	c := newClient(t, l)
	c.signIn(l.token(auth.RolePrison, "MDI"))
	form := c.do("GET", "/prison/people/A1234BC/custody-end", nil)
	if form.status != http.StatusOK || !strings.Contains(form.body, "Unlawfully at large") {
		t.Fatalf("custody end form: %d", form.status)
	}
	now := time.Now().In(aggregates.UK).Add(-time.Hour)
	vals := url.Values{"csrf": {csrf(t, form)}, "idem": {"end-1"}, "at-day": {now.Format("2")}, "at-month": {now.Format("1")},
		"at-year": {now.Format("2006")}, "at-time": {now.Format("15:04")}}
	// Nothing chosen: the error says what to do, and nothing is recorded.
	if r := c.do("POST", "/prison/people/A1234BC/custody-end", vals); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Select what happened") {
		t.Fatalf("no kind: %d", r.status)
	}
	vals.Set("kind", string(aggregates.EndUnlawfullyAtLarge))
	if r := c.do("POST", "/prison/people/A1234BC/custody-end", vals); r.status != http.StatusSeeOther {
		t.Fatalf("send: %d\n%s", r.status, r.body)
	}
	st, err := l.svc.LoadStream(context.Background(), "A1234BC")
	if err != nil || st.Journey.Custody != aggregates.UnlawfullyAtLarge {
		t.Fatalf("journey after the form: %v %v", st.Journey.Custody, err)
	}
	person := c.do("GET", "/prison/people/A1234BC", nil)
	if person.status != http.StatusOK || !strings.Contains(person.body, "Unlawfully at large since") {
		t.Fatalf("person page after the form: %d", person.status)
	}
	for _, f := range wordFaults(pageText(person.body)) {
		t.Errorf("person page: %s", f)
	}
}
