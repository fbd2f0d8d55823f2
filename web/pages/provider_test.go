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

func ago(d time.Duration) string { return time.Now().Add(-d).UTC().Format(time.RFC3339) }

// handOver has prison hand noms over to provider, and the provider accept.
func (l *stack) handOver(noms, prison, provider string, accept bool) {
	l.t.Helper()
	l.command(auth.RolePrison, prison, noms, "/handovers", map[string]any{"to": provider, "reason": "RELEASE", "at": ago(time.Hour)})
	if accept {
		l.command(auth.RoleProvider, provider, noms, "/handovers/current/acceptance", map[string]any{"at": ago(50 * time.Minute)})
	}
}

// TestBrowserLiveCaseloadAndHandover: the provider's caseload changes
// without a reload when a prison, in another browser, records a reception
// of one of its cases, and when a new case is handed to it; the provider
// then accepts a handover and records a need, an action and its outcome.
func TestBrowserLiveCaseloadAndHandover(t *testing.T) {
	l := startLedger(t)
	// A case waiting for the provider's decision.
	l.receive("A1111AA", "MDI")
	l.handOver("A1111AA", "MDI", "NPS-C", false)
	// A case the provider holds after release, whose licence it revoked.
	l.command(auth.RolePrison, "MDI", "B2222BB", "/receptions", map[string]any{"kind": "SENTENCE", "prison": "MDI", "at": ago(30 * 24 * time.Hour)})
	l.handOver("B2222BB", "MDI", "NPS-C", true)
	l.command(auth.RolePrison, "MDI", "B2222BB", "/releases", map[string]any{"kind": "ON_LICENCE", "prison": "MDI", "at": ago(40 * time.Minute)})
	l.command(auth.RoleProvider, "NPS-C", "B2222BB", "/recalls", map[string]any{"reason": "Breach of licence conditions", "at": ago(30 * time.Minute)})

	provider := newBrowser(t, l, "provider")
	provider.signIn(auth.RoleProvider, "NPS-C")
	provider.do(chromedp.WaitVisible(chromedp.CSS(`table[data-live="connected"]`)))
	provider.page("caseload")
	if row := provider.text(`tr[data-noms="B2222BB"]`); !strings.Contains(row, "Recall pending") {
		t.Fatalf("recalled case before the reception: %s", row)
	}
	if row := provider.text(`tr[data-noms="A1111AA"]`); !strings.Contains(row, "Handover to you from MDI") {
		t.Errorf("case in handover: %s", row)
	}
	// Marks the page: a reload would lose it.
	provider.do(chromedp.Evaluate[chromedp.Void](`document.body.dataset.loadedOnce = "yes"`))

	prison := newBrowser(t, l, "prison")
	prison.signIn(auth.RolePrison, "MDI")
	prison.do(chromedp.Navigate(l.URL+"/prison/arrivals/new"), chromedp.WaitVisible(chromedp.ID("noms")),
		chromedp.SetValue(chromedp.ID("noms"), "B2222BB"), chromedp.Click(chromedp.ID("kind-2")))
	prison.page("recall-arrival-form")
	prison.submit("main form button[type=submit]")
	prison.page("recall-arrival-recorded")

	_ = run(provider, chromedp.Poll[bool](`(() => { const r = document.querySelector('tr[data-noms="B2222BB"]');
		return r !== null && !r.textContent.includes("Recall pending") && r.textContent.includes("Custody"); })()`,
		chromedp.WithPollingTimeout(20*time.Second)))
	provider.page("caseload-after-reception")
	if got := provider.text("#live-announcements"); !strings.Contains(got, "B2222BB") || !strings.Contains(got, "received") {
		t.Errorf("aria-live announcement %q", got)
	}

	// A new case handed over while the page is open appears too.
	l.receive("C3333CC", "MDI")
	l.handOver("C3333CC", "MDI", "NPS-C", false)
	provider.do(chromedp.WaitVisible(chromedp.CSS(`tr[data-noms="C3333CC"]`)))
	provider.page("caseload-new-handover")
	if got := provider.text("[data-count]"); got != "3" {
		t.Errorf("count %q, want 3", got)
	}
	if v := run(provider, chromedp.Evaluate[string](`document.body.dataset.loadedOnce || ""`)); v != "yes" {
		t.Error("the caseload page was reloaded")
	}
	provider.narrow("caseload")

	// The handover queue: accept A1111AA.
	provider.visit("/provider/handovers", "handovers")
	provider.submit(`form[action="/provider/handovers/A1111AA/accept"] button`)
	provider.page("handover-accepted")
	if n := provider.text(".govuk-notification-banner"); !strings.Contains(n, "Handover accepted") {
		t.Errorf("notice %q", n)
	}
	if rec := provider.text("#receiving"); strings.Contains(rec, "A1111AA") {
		t.Errorf("accepted handover still waiting: %s", rec)
	}
	provider.visit("/provider/caseload", "caseload-after-accept")
	if row := provider.text(`tr[data-noms="A1111AA"]`); !strings.Contains(row, "Responsible") {
		t.Errorf("accepted case: %s", row)
	}

	// Reject C3333CC, with the error summary first.
	provider.visit("/provider/handovers/C3333CC/reject", "reject-form")
	provider.submit("main form button[type=submit]")
	provider.page("reject-without-reason")
	if s := provider.text(".govuk-error-summary"); !strings.Contains(s, "Enter why") {
		t.Errorf("summary: %s", s)
	}
	provider.do(chromedp.SendKeys(chromedp.ID("reason"), "Not in our area"))
	provider.submit("main form button[type=submit]")
	provider.page("handover-rejected")

	// The plan: a need, an action with a due date, its outcome.
	provider.visit("/provider/people/A1111AA", "plan")
	provider.do(chromedp.Click(chromedp.CSS(`a[href$="/needs"]`)), chromedp.WaitVisible(chromedp.ID("description")))
	provider.page("need-form")
	provider.do(chromedp.Click(chromedp.CSS(`input[name=pathway][value=HEALTH]`)), chromedp.SendKeys(chromedp.ID("description"), "Register with a GP"))
	provider.submit("main form button[type=submit]")
	provider.page("need-recorded")
	if card := provider.text(`[data-pathway="HEALTH"]`); !strings.Contains(card, "Register with a GP") {
		t.Errorf("health pathway: %s", card)
	}
	provider.do(chromedp.Click(chromedp.CSS(`a[href$="/actions"]`)), chromedp.WaitVisible(chromedp.ID("description")))
	due := time.Now().AddDate(0, 0, 1).In(aggregates.UK)
	provider.do(chromedp.Click(chromedp.CSS(`input[name=pathway][value=HEALTH]`)), chromedp.SendKeys(chromedp.ID("description"), "Book GP appointment"),
		chromedp.SendKeys(chromedp.ID("due-day"), due.Format("2")), chromedp.SendKeys(chromedp.ID("due-month"), due.Format("1")),
		chromedp.SendKeys(chromedp.ID("due-year"), due.Format("2006")))
	provider.page("action-form")
	provider.submit("main form button[type=submit]")
	provider.page("action-agreed")
	if card := provider.text(`[data-pathway="HEALTH"]`); !strings.Contains(card, "Book GP appointment") || !strings.Contains(card, "Due soon") {
		t.Errorf("action: %s", card)
	}
	provider.do(chromedp.Click(chromedp.CSS(`[data-pathway="HEALTH"] a[href$="/outcome"]`)), chromedp.WaitVisible(chromedp.ID("outcome")))
	provider.do(chromedp.SendKeys(chromedp.ID("outcome"), "Appointment booked for 3 March"))
	provider.submit("main form button[type=submit]")
	provider.page("outcome-recorded")
	if card := provider.text(`[data-pathway="HEALTH"]`); !strings.Contains(card, "Appointment booked") || !strings.Contains(card, "Done") {
		t.Errorf("outcome: %s", card)
	}
	provider.narrow("plan")

	// The prison's main page, with the three people it holds.
	prison.visit("/prison/people", "people")
	for _, noms := range []string{"A1111AA", "B2222BB", "C3333CC"} {
		if row := prison.text(`tr[data-noms="` + noms + `"]`); !strings.Contains(row, "Custody") {
			t.Errorf("prison row %s: %s", noms, row)
		}
	}
}

// TestProviderPagesAuthorisation: another provider sees nothing of a case,
// not even whether it exists; reads are in the access log.
func TestProviderPagesAuthorisation(t *testing.T) {
	l := startLedger(t)
	l.receive("A1111AA", "MDI")
	l.handOver("A1111AA", "MDI", "NPS-C", false)
	other := newClient(t, l)
	tok := other.signIn(l.token(auth.RoleProvider, "NPS-J"))
	for _, path := range []string{"/provider/people/A1111AA", "/provider/people/A1111AA/needs", "/provider/people/Z9999ZZ"} {
		if r := other.do("GET", path, nil); r.status != http.StatusNotFound {
			t.Errorf("NPS-J GET %s: %d, want 404", path, r.status)
		}
	}
	if r := other.do("GET", "/provider/caseload/rows/A1111AA", nil); r.status != http.StatusNoContent {
		t.Errorf("NPS-J row of another's case: %d, want 204", r.status)
	}
	if r := other.do("POST", "/provider/handovers/A1111AA/accept", url.Values{"csrf": {tok}, "idem": {"k"}}); r.status != http.StatusNotFound {
		t.Errorf("NPS-J accepting another's handover: %d, want 404", r.status)
	}
	prison := newClient(t, l)
	prison.signIn(l.token(auth.RolePrison, "MDI"))
	if r := prison.do("GET", "/provider/caseload", nil); r.status != http.StatusForbidden {
		t.Errorf("prison on the provider caseload: %d, want 403", r.status)
	}

	c05 := newClient(t, l)
	c05.signIn(l.token(auth.RoleProvider, "NPS-C"))
	if r := c05.do("GET", "/provider/caseload/rows/A1111AA", nil); r.status != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(r.body), `<tr`) {
		t.Errorf("NPS-C row: %d %q", r.status, r.body)
	}
	if r := c05.do("GET", "/provider/people/A1111AA", nil); r.status != http.StatusOK {
		t.Fatalf("NPS-C plan: %d", r.status)
	}
	entries, err := l.access.Read(context.Background(), time.Now().Add(-time.Hour), time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var plan bool
	for _, e := range entries {
		if e.What == auth.AccessReadPlan && e.Subject == "A1111AA" && e.Org == "NPS-C" {
			plan = true
		}
		if e.Org == "NPS-J" && e.Subject == "A1111AA" {
			t.Errorf("a refused read was logged as a read: %+v", e)
		}
	}
	if !plan {
		t.Error("the plan read is not in the access log")
	}
}

// TestBrowserOverdueAppearsLive: a deadline passes with no event at all,
// and the caseload row shows it overdue without a reload.
func TestBrowserOverdueAppearsLive(t *testing.T) {
	l := startLedger(t)
	// Screening is due 72 hours after reception: a few seconds from now.
	l.command(auth.RolePrison, "MDI", "A1111AA", "/receptions", map[string]any{"kind": "SENTENCE", "prison": "MDI",
		"at": time.Now().Add(-72*time.Hour + 20*time.Second).UTC().Format(time.RFC3339)})
	l.handOver("A1111AA", "MDI", "NPS-C", false)
	b := newBrowser(t, l, "provider")
	b.signIn(auth.RoleProvider, "NPS-C")
	b.do(chromedp.WaitVisible(chromedp.CSS(`table[data-live="connected"]`)))
	if row := b.text(`tr[data-noms="A1111AA"]`); strings.Contains(row, "Overdue") {
		t.Fatalf("the deadline passed before the page was shown (a very slow machine?): %s", row)
	}
	b.page("before-deadline")
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(document.querySelector('tr[data-noms="A1111AA"]') || {textContent: ""}).textContent.includes("Overdue")`,
		chromedp.WithPollingTimeout(50*time.Second))); err != nil {
		b.screenshot("failed")
		t.Fatalf("the row did not turn overdue: %v", err)
	}
	b.page("after-deadline")
	if got := b.text("#live-announcements"); !strings.Contains(got, "A1111AA") {
		t.Errorf("announcement %q", got)
	}
}
