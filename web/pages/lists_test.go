package pages_test

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gateledger/gateledger/auth"
)

var (
	rowNOMS  = regexp.MustCompile(`<tr class="govuk-table__row" data-noms="([A-Z0-9]+)"`)
	nextLink = regexp.MustCompile(`<a class="govuk-link govuk-pagination__link" href="([^"]+)" rel="next">`)
	prevLink = regexp.MustCompile(`<a class="govuk-link govuk-pagination__link" href="([^"]+)" rel="prev">`)
)

// TestPeopleListPagesHTTP: the prison's list, read without script, comes a page at a
// time with GOV.UK pagination links that cover everyone once; the filter narrows it;
// a closed case is hidden until asked for; a bad filter is an error summary.
func TestPeopleListPagesHTTP(t *testing.T) {
	l := startLedger(t)
	var all []string
	for i := range 5 {
		noms := fmt.Sprintf("A%04dAA", 2000+i)
		all = append(all, noms)
		l.receive(noms, "MDI")
	}
	l.handOver(all[4], "MDI", "NPS-C", true)
	l.caughtUp(l.command(auth.RoleProvider, "NPS-C", all[4], "/closure", map[string]any{"reason": "ADMINISTRATIVE", "at": ago(10 * time.Minute)}))

	c := newClient(t, l)
	c.signIn(l.token(auth.RolePrison, "MDI"))
	var got []string
	path := "/prison/people?limit=2"
	for pages := 0; path != ""; pages++ {
		r := c.do("GET", path, nil)
		if r.status != http.StatusOK || !strings.Contains(r.body, `class="moj-filter-layout"`) {
			t.Fatalf("%s: %d\n%s", path, r.status, r.body)
		}
		for _, m := range rowNOMS.FindAllStringSubmatch(r.body, -1) {
			got = append(got, m[1])
		}
		if pages > 0 && !prevLink.MatchString(r.body) {
			t.Errorf("page %d has no previous link", pages+1)
		}
		path = ""
		if m := nextLink.FindStringSubmatch(r.body); m != nil {
			path = html.UnescapeString(m[1])
		}
		if pages > 5 {
			t.Fatal("the next links do not end")
		}
	}
	if !slices.Equal(got, all[:4]) {
		t.Fatalf("pages hold %v, want the open cases %v", got, all[:4])
	}
	withClosed := c.do("GET", "/prison/people?closed=include", nil)
	if !strings.Contains(withClosed.body, `data-noms="`+all[4]+`"`) || !strings.Contains(withClosed.body, `id="closed" name="closed" type="checkbox" value="include" checked`) {
		t.Errorf("closed=include does not show the closed case")
	}
	one := c.do("GET", "/prison/people?q="+strings.ToLower(all[2]), nil)
	if m := rowNOMS.FindAllStringSubmatch(one.body, -1); len(m) != 1 || m[0][1] != all[2] || !strings.Contains(one.body, `value="`+strings.ToLower(all[2])+`"`) {
		t.Errorf("search: %v", m)
	}
	none := c.do("GET", "/prison/people?stage=RELEASED", nil)
	if !strings.Contains(none.body, "Nobody matches the filter") {
		t.Errorf("an empty filtered list does not say so:\n%s", none.body)
	}
	bad := c.do("GET", "/prison/people?q=%3Cscript%3E&deadline=soon", nil)
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, "govuk-error-summary") ||
		!strings.Contains(bad.body, `href="#q"`) || !strings.Contains(bad.body, `href="#deadline"`) {
		t.Errorf("bad filter: %d\n%s", bad.status, bad.body)
	}
	checkWords(t, "people list", withClosed.body)
}

// TestBrowserLiveRowUpdatesInPlace: with the caseload read a page at a time, a case
// on the page that changes is updated where it is and highlighted, and announced in
// plain words; a new case that belongs on another page is counted in a message, not
// appended. The filter and pagination pass axe at desktop width and at 320 px.
func TestBrowserLiveRowUpdatesInPlace(t *testing.T) {
	l := startLedger(t)
	for _, noms := range []string{"A1000AA", "A2000AA", "A3000AA", "A4000AA"} {
		l.receive(noms, "MDI")
		l.handOver(noms, "MDI", "NPS-C", true)
	}
	provider := newBrowser(t, l, "provider")
	provider.signIn(auth.RoleProvider, "NPS-C")
	provider.visit("/provider/caseload?limit=3", "caseload-first-page")
	provider.narrow("caseload-first-page")
	provider.do(chromedp.WaitVisible(chromedp.CSS(`table[data-live="connected"]`)))
	provider.do(chromedp.Evaluate[chromedp.Void](`document.body.dataset.loadedOnce = "yes"`))
	order := func() string {
		return run(provider, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('#caseload tbody tr')).map(r => r.dataset.noms).join(',')`))
	}
	if got := order(); got != "A1000AA,A2000AA,A3000AA" {
		t.Fatalf("first page %s", got)
	}

	// The middle case changes: it stays where it is, highlighted.
	l.command(auth.RoleProvider, "NPS-C", "A2000AA", "/risk", map[string]any{"level": "HIGH", "at": ago(time.Minute)})
	_ = run(provider, chromedp.Poll[bool](`(() => { const r = document.querySelector('tr[data-noms="A2000AA"]');
		return r !== null && r.classList.contains('gl-row--updated'); })()`, chromedp.WithPollingTimeout(20*time.Second)))
	provider.page("caseload-row-updated")
	if got := order(); got != "A1000AA,A2000AA,A3000AA" {
		t.Errorf("after the change the page reads %s", got)
	}
	if got := provider.text("#live-announcements"); got != "Record updated for A2000AA: risk assessed" {
		t.Errorf("announcement %q", got)
	}

	// A new case that sorts after this page's last row: counted, not appended.
	l.receive("B5000BB", "MDI")
	l.handOver("B5000BB", "MDI", "NPS-C", false)
	provider.do(chromedp.WaitVisible(chromedp.ID("live-changed")))
	provider.page("caseload-changed-elsewhere")
	if got := provider.text("#live-changed"); !strings.Contains(got, "1 person changed on other pages of this list") {
		t.Errorf("message %q", got)
	}
	if got := order(); got != "A1000AA,A2000AA,A3000AA" {
		t.Errorf("a row for another page was shown: %s", got)
	}
	// A new case that sorts within the page appears where the order puts it.
	l.receive("A1500AA", "MDI")
	l.handOver("A1500AA", "MDI", "NPS-C", false)
	provider.do(chromedp.WaitVisible(chromedp.CSS(`tr[data-noms="A1500AA"]`)))
	if got := order(); got != "A1000AA,A1500AA,A2000AA,A3000AA" {
		t.Errorf("new row placed: %s", got)
	}
	if v := run(provider, chromedp.Evaluate[string](`document.body.dataset.loadedOnce || ""`)); v != "yes" {
		t.Error("the caseload page was reloaded")
	}
	provider.narrow("caseload-live")
}

// TestHandoverListPagesHTTP: the provider's table of all handovers, read without
// script, comes a page at a time with GOV.UK pagination links covering every handover
// once; the filter narrows it; the decision list above shows only open handovers to
// the provider; a bad filter is an error summary.
func TestHandoverListPagesHTTP(t *testing.T) {
	l := startLedger(t)
	var all []string
	for i := range 5 {
		noms := fmt.Sprintf("A%04dHH", 4000+i)
		all = append(all, noms)
		l.receive(noms, "MDI")
		l.handOver(noms, "MDI", "NPS-C", i < 2)
	}
	l.caughtUp(l.command(auth.RoleProvider, "NPS-C", all[4], "/handovers/current/rejection", map[string]any{"reason": "not ours", "at": ago(10 * time.Minute)}))

	c := newClient(t, l)
	c.signIn(l.token(auth.RoleProvider, "NPS-C"))
	var got []string
	path := "/provider/handovers?limit=2"
	for pages := 0; path != ""; pages++ {
		r := c.do("GET", path, nil)
		if r.status != http.StatusOK || !strings.Contains(r.body, `class="moj-filter-layout"`) {
			t.Fatalf("%s: %d\n%s", path, r.status, r.body)
		}
		if !strings.Contains(r.body, `data-noms="`+all[2]+`"`) || !strings.Contains(r.body, `action="/provider/handovers/`+all[3]+`/accept"`) {
			t.Errorf("page %d does not offer the open handovers for a decision", pages+1)
		}
		for _, m := range rowNOMS.FindAllStringSubmatch(r.body, -1) {
			got = append(got, m[1])
		}
		if pages > 0 && !prevLink.MatchString(r.body) {
			t.Errorf("page %d has no previous link", pages+1)
		}
		path = ""
		if m := nextLink.FindStringSubmatch(r.body); m != nil {
			path = html.UnescapeString(m[1])
		}
		if pages > 5 {
			t.Fatal("the next links do not end")
		}
	}
	// Open first (2, 3), then decided (0, 1 accepted; 4 rejected).
	if want := []string{all[2], all[3], all[0], all[1], all[4]}; !slices.Equal(got, want) {
		t.Fatalf("pages hold %v, want %v", got, want)
	}
	decided := c.do("GET", "/provider/handovers?status=decided&q="+strings.ToLower(all[4]), nil)
	if m := rowNOMS.FindAllStringSubmatch(decided.body, -1); len(m) != 1 || m[0][1] != all[4] ||
		!strings.Contains(decided.body, `id="status-2" name="status" type="radio" value="decided" checked`) {
		t.Errorf("decided, searched: %v", m)
	}
	none := c.do("GET", "/provider/handovers?direction=outgoing", nil)
	if !strings.Contains(none.body, "No handovers match the filter") {
		t.Errorf("an empty filtered list does not say so:\n%s", none.body)
	}
	bad := c.do("GET", "/provider/handovers?direction=sideways&q=%3Cb%3E", nil)
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, "govuk-error-summary") ||
		!strings.Contains(bad.body, `href="#direction"`) || !strings.Contains(bad.body, `href="#q"`) {
		t.Errorf("bad filter: %d\n%s", bad.status, bad.body)
	}
	// Every row's direction, reason and status in words (the Direction column once
	// printed a Go value).
	for _, body := range []string{decided.body, c.do("GET", "/provider/handovers", nil).body} {
		for _, f := range wordFaults(pageText(body)) {
			t.Errorf("handovers list: %s", f)
		}
	}
}
