package pages_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/calendar"
	"github.com/gateledger/gateledger/eventlog/eventlogtest"
	"github.com/gateledger/gateledger/journeys"
	"github.com/gateledger/gateledger/web/export"
)

// pastLedger records facts into the test ledger's store as if they had been
// recorded on past days: the "as at" pages ask what the ledger knew by a
// date, so the facts must have been recorded on different days. It is a
// command service of its own over the same store (the API's records with
// today's clock).
type pastLedger struct {
	t   *testing.T
	svc *journeys.Service

	mu  sync.Mutex
	now time.Time
	n   int
}

func newPastLedger(t *testing.T, l *stack) *pastLedger {
	p := &pastLedger{t: t}
	p.svc = &journeys.Service{Store: l.store, Policy: aggregates.DefaultPolicy(calendar.New(time.UTC)), Logger: eventlogtest.Logger(),
		Clock: func() time.Time {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.now = p.now.Add(time.Second)
			return p.now
		}}
	return p
}

// on records cmd for noms as a user of org, recorded at the time at.
func (p *pastLedger) on(at time.Time, noms, org string, cmd aggregates.Command) aggregates.Journey {
	p.t.Helper()
	p.mu.Lock()
	p.now, p.n = at, p.n+1
	n := p.n
	p.mu.Unlock()
	res, err := p.svc.Handle(context.Background(), noms, cmd, journeys.CommandMeta{UserID: "user-" + org, Role: "STAFF",
		Organisation: org, Source: aggregates.SourceUI, IdempotencyKey: fmt.Sprintf("past-%d", n)})
	if err != nil {
		p.t.Fatalf("%s for %s: %v", cmd.CommandName(), noms, err)
	}
	return res.Journey
}

// TestBrowserInspector: an inspector finds a person, opens the timeline,
// looks at the plan as it was on two dates and sees it change, checks the
// record, downloads the history as CSV and reads it, and looks at the
// outcomes by provider with the chart; axe-core finds no serious or critical
// violation on any inspector page, at desktop width and at 320 px.
func TestBrowserInspector(t *testing.T) {
	l := startLedger(t)
	p := newPastLedger(t, l)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	dayAt := func(daysAgo int) time.Time { return today.AddDate(0, 0, -daysAgo).Add(10 * time.Hour) }
	date := func(daysAgo int) time.Time { return dayAt(daysAgo).In(aggregates.UK) }

	// A1234BC: received and screened 30 days ago; a need and the plan 20
	// days ago; the plan revised 10 days ago, with an action whose
	// description could be a spreadsheet formula.
	const noms = "A1234BC"
	p.on(dayAt(30), noms, "MDI", aggregates.ReceivePrisoner{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: "MDI", At: dayAt(30)})
	p.on(dayAt(30), noms, "MDI", aggregates.CompleteScreening{At: dayAt(30)})
	p.on(dayAt(20), noms, "MDI", aggregates.IdentifyNeed{Pathway: aggregates.PathwayAccommodation, Description: "no fixed abode", At: dayAt(20)})
	p.on(dayAt(20), noms, "MDI", aggregates.DraftPlan{Summary: "Housing first", At: dayAt(20)})
	p.on(dayAt(10), noms, "MDI", aggregates.RevisePlan{Summary: "Housing, then work", Reason: "a job offer", At: dayAt(10)})
	p.on(dayAt(10), noms, "MDI", aggregates.AgreeAction{ActionID: "acc-1", Pathway: aggregates.PathwayAccommodation,
		Description: "=HYPERLINK(\"http://example.invalid\")", Due: aggregates.DateOf(dayAt(-20)), At: dayAt(10)})
	p.on(dayAt(10), noms, "MDI", aggregates.LinkCRN{CRN: "X123456", At: dayAt(10)})

	// Two people released to providers, one of whom reoffended: outcomes.
	for k, c := range []struct {
		noms, area string
		reoffend   bool
	}{{"B2345CD", "NPS-C", true}, {"C3456DE", "NPS-J", false}} {
		p.on(dayAt(200+k), c.noms, "LEI", aggregates.ReceivePrisoner{NOMS: c.noms, Kind: aggregates.ReceptionSentence, Prison: "LEI", At: dayAt(200 + k)})
		j := p.on(dayAt(199), c.noms, "LEI", aggregates.ChangeReleaseArea{Area: c.area, At: dayAt(199)})
		if h := j.OpenHandover(); h != nil {
			p.on(dayAt(198), c.noms, string(h.To), aggregates.AcceptHandover{At: dayAt(198)})
		}
		j = p.on(dayAt(100), c.noms, "LEI", aggregates.ReleasePrisoner{Kind: aggregates.ReleaseOnLicence, Prison: "LEI", At: dayAt(100)})
		if c.reoffend {
			p.on(dayAt(5), c.noms, string(j.Responsible()), aggregates.RecordProvenReoffence{Offence: "theft",
				OffenceDate: aggregates.DateOf(dayAt(50)), ConvictionDate: aggregates.DateOf(dayAt(6)), At: dayAt(5)})
		}
	}

	b := newBrowser(t, l, "inspector")
	b.signIn(auth.RoleInspector, "")
	if loc := run(b, chromedp.Location()); !strings.HasSuffix(loc, "/inspect") {
		t.Fatalf("an inspector's home is %s, want /inspect", loc)
	}
	b.page("find")

	// Find: a wrong number gets the error summary; the right one a result.
	b.do(chromedp.SendKeys(chromedp.ID("query"), "Smith"), chromedp.Click(chromedp.CSS("form[action='/inspect'] button")),
		chromedp.WaitVisible(chromedp.CSS(".govuk-error-summary")))
	b.page("find-error")
	b.do(chromedp.Clear(chromedp.ID("query")), chromedp.SendKeys(chromedp.ID("query"), "a1234bc"),
		chromedp.Click(chromedp.CSS("form[action='/inspect'] button")), chromedp.WaitVisible(chromedp.ID("results")))
	b.page("found")
	if got := b.text("#results"); !strings.Contains(got, noms) || !strings.Contains(got, "X123456") {
		t.Fatalf("results: %q", got)
	}

	// The timeline: newest first, who, organisation, when, source.
	b.do(chromedp.Click(chromedp.CSS("#results a")), chromedp.WaitVisible(chromedp.ID("timeline")))
	b.page("timeline")
	items := run(b, chromedp.Nodes(chromedp.CSSAll("#timeline .moj-timeline__item")))
	if len(items) != 7 {
		t.Fatalf("timeline has %d items, want 7", len(items))
	}
	first := b.text("#timeline .moj-timeline__item")
	for _, want := range []string{"CRN linked", "by user-MDI, Staff, MDI", "from Web pages", date(10).Format("2 January 2006")} {
		if !strings.Contains(first, want) {
			t.Errorf("the newest timeline item lacks %q:\n%s", want, first)
		}
	}
	if last := b.text("#timeline .moj-timeline__item:last-child"); !strings.Contains(last, "Received into custody") || !strings.Contains(last, "MDI") {
		t.Errorf("the oldest item: %s", last)
	}

	// The plan just after the reception, from the timeline's link.
	b.do(chromedp.Click(chromedp.CSS("#timeline .moj-timeline__item:last-child a")), chromedp.WaitVisible(chromedp.ID("as-at-summary")))
	b.page("as-at-after-reception")
	if got := b.text("main h1"); got != noms+" just after received into custody" {
		t.Errorf("as at the reception: heading %q", got)
	}
	if got := b.text("#as-at-summary"); !strings.Contains(got, "1 of the 7 events") {
		t.Errorf("as at the reception: %s", got)
	}

	// As at 25 days ago: screened, no plan. Then 15 days ago: the first
	// plan. The plan changes with the date.
	asAt := func(daysAgo int, step string) string {
		d := date(daysAgo)
		b.do(chromedp.Clear(chromedp.ID("as-at-day")), chromedp.SendKeys(chromedp.ID("as-at-day"), fmt.Sprint(d.Day())),
			chromedp.Clear(chromedp.ID("as-at-month")), chromedp.SendKeys(chromedp.ID("as-at-month"), fmt.Sprint(int(d.Month()))),
			chromedp.Clear(chromedp.ID("as-at-year")), chromedp.SendKeys(chromedp.ID("as-at-year"), fmt.Sprint(d.Year())),
			chromedp.Click(chromedp.ID("as-at-submit")), chromedp.WaitVisible(chromedp.ID("as-at-summary")))
		b.page(step)
		return b.text("#as-at-plan")
	}
	if plan := asAt(25, "as-at-25-days-ago"); !strings.Contains(plan, "No plan had been drafted") || strings.Contains(plan, "Need: no fixed abode") {
		t.Errorf("25 days ago, before the plan:\n%s", plan)
	}
	if got := b.text("#as-at-summary"); !strings.Contains(got, "2 of the 7 events") {
		t.Errorf("as-at summary: %s", got)
	}
	if plan := asAt(15, "as-at-15-days-ago"); !strings.Contains(plan, "Housing first") || !strings.Contains(plan, "Need: no fixed abode") ||
		strings.Contains(plan, "Housing, then work") {
		t.Errorf("15 days ago, the first plan:\n%s", plan)
	}
	if plan := asAt(5, "as-at-5-days-ago"); !strings.Contains(plan, "Housing, then work") || !strings.Contains(plan, "Revision 2") {
		t.Errorf("5 days ago, the revised plan:\n%s", plan)
	}
	// A date that does not exist: the error summary, on the timeline.
	b.do(chromedp.Clear(chromedp.ID("as-at-day")), chromedp.SendKeys(chromedp.ID("as-at-day"), "31"),
		chromedp.Clear(chromedp.ID("as-at-month")), chromedp.SendKeys(chromedp.ID("as-at-month"), "2"),
		chromedp.Click(chromedp.ID("as-at-submit")), chromedp.WaitVisible(chromedp.CSS(".govuk-error-summary")))
	b.page("as-at-error")

	// The record verifies.
	b.visit("/inspect/people/"+noms+"/verification", "verification")
	if got := b.text("#verification-result"); !strings.Contains(got, "has not been changed") || !strings.Contains(got, "All 7 events") {
		t.Errorf("verification: %s", got)
	}

	// The CSV download: a real download through the link, then read.
	b.visit("/inspect/people/"+noms, "timeline-again")
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.Click(chromedp.ID("download-csv")))
	file := filepath.Join(dir, export.Filename(noms, "csv"))
	var data []byte
	for deadline := time.Now().Add(stepTimeout); ; {
		var err error
		if data, err = os.ReadFile(file); err == nil && len(data) > 0 {
			if _, partial := os.Stat(file + ".crdownload"); partial != nil {
				break
			}
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(dir)
			t.Fatalf("no download at %s (the directory holds %v)", file, entries)
		}
		time.Sleep(100 * time.Millisecond)
	}
	recs, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		t.Fatalf("the download is not CSV: %v\n%s", err, data)
	}
	if len(recs) != 8 || strings.Join(recs[0], ",") != strings.Join(export.Columns, ",") {
		t.Fatalf("the CSV has %d records:\n%s", len(recs), data)
	}
	col := map[string]int{}
	for i, c := range export.Columns {
		col[c] = i
	}
	for k, want := range []string{"PrisonerReceived", "CustodyScreeningCompleted", "PathwayNeedIdentified", "ResettlementPlanDrafted",
		"ResettlementPlanRevised", "ActionAgreed", "CRNLinked"} {
		row := recs[k+1]
		if row[col["type"]] != want || row[col["user_id"]] != "user-MDI" || row[col["organisation"]] != "MDI" ||
			row[col["source"]] != "ui" || len(row[col["hash"]]) != 64 {
			t.Errorf("CSV row %d: %v", k+1, row)
		}
	}
	// What happened, in words, for an inspector reading the spreadsheet.
	if got := recs[1][col["details"]]; got != "Reception kind: Sentence; Prison: MDI" || recs[1][col["what"]] != "Received into custody" {
		t.Errorf("CSV row 1 does not say what happened: %v", recs[1])
	}
	if !strings.HasSuffix(string(data), "\r\n") {
		t.Error("CSV records end in CRLF")
	}

	// Outcomes: tables and the chart.
	b.visit("/inspect/outcomes", "outcomes")
	svg := run(b, chromedp.OuterHTML(chromedp.CSS("#outcomes-figure svg")))
	if !strings.Contains(svg, `role="img"`) || !strings.Contains(svg, "<title") || !strings.Contains(svg, "<desc") {
		t.Errorf("chart: %s", svg)
	}
	table := b.text("#outcomes-by-provider")
	if !strings.Contains(table, "50.0%") && !strings.Contains(table, "100.0%") {
		t.Errorf("outcomes by provider:\n%s", table)
	}
	if n := len(run(b, chromedp.Nodes(chromedp.CSSAll("#outcomes-figure svg g")))); n != len(run(b, chromedp.Nodes(chromedp.CSSAll("#outcomes-by-provider tbody tr")))) {
		t.Errorf("the chart has %d bars for a table of another length", n)
	}

	// At 320 px wide: the timeline and the outcomes reflow.
	b.do(chromedp.EmulateViewport(320, 800))
	d5 := date(5)
	for _, path := range []string{"/inspect", "/inspect/people/" + noms, "/inspect/outcomes", "/inspect/people/" + noms + "/verification",
		fmt.Sprintf("/inspect/people/%s/as-at?day=%d&month=%d&year=%d", noms, d5.Day(), int(d5.Month()), d5.Year())} {
		b.visit(path, "320px")
		if w := run(b, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`)); w > 320 {
			wide := run(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('body *')).`+
				`filter(e => e.getBoundingClientRect().right > 321).slice(0, 5).map(e => e.tagName + '.' + e.className)`))
			t.Errorf("%s is %d px wide at 320 px: it scrolls sideways; too wide: %v", path, w, wide)
		}
	}

	// Other roles are refused the inspector's pages, and find nothing there.
	pb := newBrowser(t, l, "provider")
	pb.signIn(auth.RoleProvider, "NPS-C")
	pb.visit("/inspect/people/"+noms, "provider-refused")
	if got := pb.text("main h1"); !strings.Contains(got, "cannot") {
		t.Errorf("a provider on an inspector page sees %q", got)
	}

	// Every read of the person was recorded.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	es, err := l.access.Read(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range es {
		if e.Role == auth.RoleInspector {
			seen[e.What+" "+e.Subject] = true
		}
	}
	for _, want := range []string{"find person A1234BC", "read audit trail A1234BC", "read plan A1234BC", "verify journey A1234BC",
		"export audit trail A1234BC"} {
		if !seen[want] {
			t.Errorf("the access log lacks %q: %v", want, seen)
		}
	}
}
