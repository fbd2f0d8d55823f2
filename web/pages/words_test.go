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

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/ingest"
	"github.com/gateledger/gateledger/web/pages"
)

var (
	// templateFault is what fmt writes for a value it cannot format
	// ("%!s(projections.direction=82)") and what html/template leaves for
	// a missing value.
	templateFault = regexp.MustCompile(`%!|<no value>`)
	// upperCode is an enum code: capitals joined by underscores.
	upperCode = regexp.MustCompile(`\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b`)
	// isoTime is a machine timestamp (2026-11-30T09:00:00Z).
	isoTime = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}`)
	// pascalWord is a Go-style name (HandoverRequested).
	pascalWord = regexp.MustCompile(`\b[A-Z][a-z]+(?:[A-Z][a-z]*)+\b`)
)

// codeNames are the type names people must never read: event types (of
// journeys and of dead letters) and command names.
var codeNames = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range aggregates.EventTypes() {
		m[t] = true
	}
	for _, t := range []string{ingest.TypeDeadLetterRecorded, ingest.TypeDeadLetterSeenAgain, ingest.TypeDeadLetterRedriveFailed,
		ingest.TypeDeadLetterResolved, ingest.TypeDeadLetterDiscarded} {
		m[t] = true
	}
	for _, c := range []string{"ReceivePrisoner", "ReleasePrisoner", "RecordMovement", "EndCustody", "CompleteScreening", "DraftPlan",
		"RevisePlan", "IdentifyNeed", "ChangePathwayStatus", "AgreeAction", "CompleteAction", "SetReleaseDates", "RequestHandover",
		"AcceptHandover", "RejectHandover", "ChangeReleaseArea", "LinkCRN", "CorrectFact", "CloseJourney"} {
		m[c] = true
	}
	return m
}()

// wordFaults lists what visible text must not hold: template formatting
// errors, enum codes (ON_LICENCE), event type and command names
// (ReleaseAreaChanged) and ISO timestamps, each with its context. It is the
// one check of the browser tests (browser.checkWords) and of
// TestEveryPageInWords.
func wordFaults(text string) []string {
	var out []string
	around := func(loc []int) string {
		from, to := max(loc[0]-40, 0), min(loc[1]+40, len(text))
		return strings.Join(strings.Fields(text[from:to]), " ")
	}
	for _, c := range []struct {
		what string
		re   *regexp.Regexp
	}{{"a template formatting error", templateFault}, {"a raw code", upperCode}, {"an ISO timestamp", isoTime}} {
		for _, loc := range c.re.FindAllStringIndex(text, 5) {
			out = append(out, fmt.Sprintf("%s %q in %q", c.what, text[loc[0]:loc[1]], around(loc)))
		}
	}
	for _, loc := range pascalWord.FindAllStringIndex(text, -1) {
		if w := text[loc[0]:loc[1]]; codeNames[w] {
			out = append(out, fmt.Sprintf("a type name %q in %q", w, around(loc)))
		}
	}
	return out
}

var (
	// hiddenParts are the parts of a page that are not text for people:
	// scripts, templates, styles, and a dead letter's quoted message.
	hiddenParts = regexp.MustCompile(`(?s)<script\b.*?</script>|<style\b.*?</style>|<template\b.*?</template>|<pre class="[^"]*gl-message[^"]*">.*?</pre>|<head>.*?</head>`)
	anyTag      = regexp.MustCompile(`(?s)<[^>]*>`)
)

// pageText is the text of an HTML page as a person reads or hears it.
func pageText(page string) string {
	return html.UnescapeString(anyTag.ReplaceAllString(hiddenParts.ReplaceAllString(page, " "), " "))
}

func TestWordFaults(t *testing.T) {
	for text, bad := range map[string]bool{
		"%!s(projections.direction=82)":            true,
		"Custody: RELEASE_AREA_CHANGED":            true,
		"Accommodation":                            false,
		"2026-11-30T09:00:00Z is before reception": true,
		"by token:806e3111a15a":                    false, // checked by TestHistoryNamesWhoActed
		"Event: ReleaseAreaChanged":                true,
		"1 December 2026, 9:00am, MDI, A1234BC":    false,
		"GOV.UK, MoJ, MAPPA level set, HDC":        false,
	} {
		if got := len(wordFaults(text)) > 0; got != bad {
			t.Errorf("wordFaults(%q) = %v, want %v", text, wordFaults(text), bad)
		}
	}
}

// TestEveryPageInWords renders every page template, with a journey that
// uses most of what they show (a release, a handover each way, a dead
// letter), over HTTP without a browser, and checks each page's text with
// wordFaults. It lists the templates it reached and fails if one is missed.
func TestEveryPageInWords(t *testing.T) {
	l := startLedger(t)
	const noms, other = "A1234BC", "B2222BB"
	l.receive(noms, "MDI")
	l.command(auth.RolePrison, "MDI", noms, "/screenings", map[string]any{"at": ago(47 * time.Hour)})
	l.command(auth.RolePrison, "MDI", noms, "/release-dates", map[string]any{"dates": map[string]any{"conditionalReleaseDate": time.Now().AddDate(0, 1, 0).Format(time.DateOnly)}, "at": ago(46 * time.Hour)})
	l.command(auth.RolePrison, "MDI", noms, "/releases", map[string]any{"kind": "ON_LICENCE", "prison": "MDI", "at": ago(time.Hour)})
	l.receive(other, "MDI")
	l.handOver(other, "MDI", "NPS-C", false)

	type visit struct {
		role auth.Role
		org  string
		path string
	}
	visits := []visit{
		{"", "", "/sign-in"},
		{auth.RolePrison, "MDI", "/prison/people"},
		{auth.RolePrison, "MDI", "/prison/people/" + noms},
		{auth.RolePrison, "MDI", "/prison/people/" + other},
		{auth.RolePrison, "MDI", "/prison/arrivals/new"},
		{auth.RolePrison, "MDI", "/prison/people/" + other + "/screening"},
		{auth.RolePrison, "MDI", "/prison/people/" + other + "/release-dates"},
		{auth.RolePrison, "MDI", "/prison/people/" + other + "/release"},
		{auth.RolePrison, "MDI", "/prison/people/" + other + "/transfer"},
		{auth.RolePrison, "MDI", "/prison/people/" + other + "/custody-end"},
		{auth.RolePrison, "MDI", "/prison/people/Z9999ZZ"},
		{auth.RoleProvider, "NPS-C", "/provider/caseload"},
		{auth.RoleProvider, "NPS-C", "/provider/handovers"},
		{auth.RoleProvider, "NPS-C", "/provider/people/" + noms},
		{auth.RoleProvider, "NPS-C", "/provider/people/" + other},
		{auth.RoleProvider, "NPS-C", "/provider/people/" + noms + "/needs"},
		{auth.RoleProvider, "NPS-C", "/provider/handovers/" + other + "/reject"},
		{auth.RoleInspector, "", "/inspect"},
		{auth.RoleInspector, "", "/inspect?q=" + noms},
		{auth.RoleInspector, "", "/inspect/people/" + noms},
		{auth.RoleInspector, "", "/inspect/people/" + noms + "/as-at?position=1"},
		{auth.RoleInspector, "", "/inspect/people/" + noms + "/verification"},
		{auth.RoleInspector, "", "/inspect/outcomes"},
		{auth.RoleAdmin, "", "/dead-letters"},
	}
	clients := map[string]*client{}
	var reached []string
	for _, v := range visits {
		k := string(v.role) + "/" + v.org
		c, ok := clients[k]
		if !ok {
			c = newClient(t, l)
			if v.role != "" {
				c.signIn(l.token(v.role, v.org))
			}
			clients[k] = c
		}
		r := c.do("GET", v.path, nil)
		if r.status != http.StatusOK && r.status != http.StatusNotFound {
			t.Errorf("%s GET %s: %d", k, v.path, r.status)
			continue
		}
		reached = append(reached, templateOf(r.body))
		for _, f := range wordFaults(pageText(r.body)) {
			t.Errorf("%s GET %s shows %s", k, v.path, f)
		}
	}
	names, err := pages.TemplateNames()
	if err != nil {
		t.Fatal(err)
	}
	// home is for a role with no main page (none now): rendered directly.
	home, err := pages.RenderHome()
	if err != nil {
		t.Fatal(err)
	}
	reached = append(reached, templateOf(home))
	for _, f := range wordFaults(pageText(home)) {
		t.Errorf("home shows %s", f)
	}
	for _, name := range names {
		// deadletter needs a letter: TestBrowserDeadLetters renders it,
		// with the same check.
		if !slices.Contains(reached, name) && name != "deadletter" {
			t.Errorf("template %s was not rendered; add a page that uses it", name)
		}
	}
}

// templateOf reads which template rendered a page (the data-page the
// layout writes on <body>).
func templateOf(page string) string {
	_, rest, ok := strings.Cut(page, `data-page="`)
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, `"`)
	return name
}
