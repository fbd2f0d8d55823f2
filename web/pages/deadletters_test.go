package pages_test

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gateledger/gateledger/auth"
)

// feedPost delivers an HMPPS message through the API as the feed.
func (l *stack) feedPost(body string) {
	l.t.Helper()
	req, err := http.NewRequest(http.MethodPost, l.URL+"/v1/feeds/hmpps", strings.NewReader(body))
	if err != nil {
		l.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+l.token(auth.RoleFeed, ""))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		l.t.Fatalf("feed: %d %s", resp.StatusCode, b)
	}
}

func feedMessage(noms, reason, code string, at time.Time) string {
	return fmt.Sprintf(`{"eventType":"prison-offender-events.prisoner.released","occurredAt":%q,"additionalInformation":{"nomsNumber":%q,"reason":%q,"prisonId":"MDI","nomisMovementReasonCode":%q}}`,
		at.UTC().Format(time.RFC3339), noms, reason, code)
}

var (
	preBlock  = regexp.MustCompile(`(?s)<pre[^>]*>.*?</pre>`)
	tags      = regexp.MustCompile(`(?s)<[^>]*>`)
	isoStamp  = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}`)
	ukWhen    = regexp.MustCompile(`\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|December) \d{4}, \d{1,2}:\d{2}(am|pm)`)
	letterRef = regexp.MustCompile(`href="/dead-letters/([0-9a-f-]{36})"`)
)

// visibleText is what a person reads on a page: no tags, and no raw
// message (which is shown as it came, on purpose).
func visibleText(page string) string {
	return html.UnescapeString(tags.ReplaceAllString(preBlock.ReplaceAllString(page, ""), " "))
}

// checkWords fails on what a person should never read: formatting errors,
// enum codes and machine timestamps.
func checkWords(t *testing.T, name, page string) {
	t.Helper()
	text := visibleText(page)
	for _, bad := range []string{"%!", "<no value>", "unmappable", "malformed", "rejected", "requires-reception", "unreadable-journey",
		"DeadLetter", "prison-offender-events", "token:"} {
		if strings.Contains(text, bad) {
			t.Errorf("%s shows %q:\n%s", name, bad, text)
		}
	}
	if m := isoStamp.FindString(text); m != "" {
		t.Errorf("%s shows a machine timestamp %q", name, m)
	}
}

// TestDeadLetterPagesHTTP: the dead-letter pages without a browser: who may
// open them and act, the words they use, and redrive and discard from them.
func TestDeadLetterPagesHTTP(t *testing.T) {
	l := startLedger(t)
	// Given a release before its reception, an unknown movement code and a
	// message that cannot be read,
	l.feedPost(feedMessage("A1111AA", "RELEASED", "NCS", time.Now().Add(-time.Hour)))
	l.feedPost(feedMessage("B2222BB", "UNKNOWN", "ZZ", time.Now().Add(-2*time.Hour)))
	l.feedPost(`{"eventType":"prison-offender-events.prisoner.released"`)

	for _, role := range []struct {
		role auth.Role
		org  string
	}{{auth.RolePrison, "MDI"}, {auth.RoleProvider, "C05"}} {
		c := newClient(t, l)
		c.signIn(l.token(role.role, role.org))
		if r := c.do("GET", "/dead-letters", nil); r.status != http.StatusForbidden || strings.Contains(r.body, "A1111AA") {
			t.Errorf("%s: %d", role.role, r.status)
		}
	}

	insp := newClient(t, l)
	insp.signIn(l.token(auth.RoleInspector, ""))
	list := insp.do("GET", "/dead-letters", nil)
	if list.status != http.StatusOK || strings.Contains(list.body, `action="/dead-letters/redrive"`) {
		t.Fatalf("inspector list: %d\n%s", list.status, list.body)
	}
	ids := letterRef.FindAllStringSubmatch(list.body, -1)
	if len(ids) != 3 {
		t.Fatalf("%d letters listed:\n%s", len(ids), list.body)
	}
	for _, path := range []string{"/dead-letters", "/dead-letters?state=resolved", "/dead-letters?state=discarded"} {
		checkWords(t, path, insp.do("GET", path, nil).body)
	}
	text := visibleText(list.body)
	for _, want := range []string{"The ledger does not know what movement code ZZ means", "arrived before the person's reception",
		"The message could not be read", "Waiting (3)", "Movement code ZZ", "Released"} {
		if !strings.Contains(text, want) {
			t.Errorf("the list does not say %q:\n%s", want, text)
		}
	}
	if len(ukWhen.FindAllString(text, -1)) != 6 {
		t.Errorf("want first and last seen of 3 letters in UK words:\n%s", text)
	}
	var release, unknown string
	for _, m := range ids {
		page := insp.do("GET", "/dead-letters/"+m[1], nil)
		if page.status != http.StatusOK || strings.Contains(page.body, "Discard this message") {
			t.Fatalf("inspector letter: %d", page.status)
		}
		checkWords(t, m[1], page.body)
		switch {
		case strings.Contains(page.body, "A1111AA"):
			release = m[1]
		case strings.Contains(page.body, "B2222BB"):
			unknown = m[1]
		}
	}
	if r := insp.do("POST", "/dead-letters/redrive", url.Values{"csrf": {csrf(t, list)}}); r.status != http.StatusForbidden {
		t.Errorf("inspector redrive: %d", r.status)
	}
	for _, p := range []string{"/dead-letters/not-an-id", "/dead-letters/00000000-0000-4000-8000-000000000000"} {
		if r := insp.do("GET", p, nil); r.status != http.StatusNotFound {
			t.Errorf("%s: %d", p, r.status)
		}
	}

	admin := newClient(t, l)
	admin.signIn(l.token(auth.RoleAdmin, ""))
	// An admin comes to the queue first, with its actions.
	home := admin.do("GET", "/", nil)
	if loc := home.header.Get("Location"); home.status != http.StatusSeeOther || loc != "/dead-letters" {
		t.Fatalf("admin home: %d %s", home.status, loc)
	}
	page := admin.do("GET", "/dead-letters/"+unknown, nil)
	token := csrf(t, page)

	// Discarding without a reason says what to do; with one, it is recorded.
	r := admin.do("POST", "/dead-letters/"+unknown+"/discard", url.Values{"csrf": {token}, "reason": {"  "}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `href="#reason"`) || !strings.Contains(r.body, "Enter why this message will never be applied") {
		t.Fatalf("discard without a reason: %d\n%s", r.status, r.body)
	}
	checkWords(t, "discard error", r.body)
	r = admin.do("POST", "/dead-letters/"+unknown+"/discard", url.Values{"csrf": {token}, "reason": {"An administrative merge, checked with MDI"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("discard: %d\n%s", r.status, r.body)
	}
	page = admin.do("GET", r.header.Get("Location"), nil)
	text = visibleText(page.body)
	if !strings.Contains(text, "The message was discarded") || !strings.Contains(text, "An administrative merge, checked with MDI") ||
		!strings.Contains(text, "by Test admin") {
		t.Fatalf("discarded letter:\n%s", text)
	}
	checkWords(t, "discarded letter", page.body)

	// Tried again before the reception, the release waits; after it, it applies.
	r = admin.do("POST", "/dead-letters/redrive", url.Values{"csrf": {token}, "id": {release}})
	if loc := r.header.Get("Location"); r.status != http.StatusSeeOther || loc != "/dead-letters/"+release+"?done=waiting" {
		t.Fatalf("redrive: %d %s", r.status, loc)
	}
	l.receive("A1111AA", "MDI")
	r = admin.do("POST", "/dead-letters/redrive", url.Values{"csrf": {token}})
	if loc := r.header.Get("Location"); r.status != http.StatusSeeOther || loc != "/dead-letters?done=redriven" {
		t.Fatalf("redrive all: %d %s", r.status, loc)
	}
	page = admin.do("GET", "/dead-letters/"+release, nil)
	text = visibleText(page.body)
	if !strings.Contains(text, "Applied") || !strings.Contains(text, "when an administrator tried it again") || strings.Contains(page.body, "Discard this message") {
		t.Fatalf("applied letter:\n%s", text)
	}
	checkWords(t, "applied letter", page.body)
	list = admin.do("GET", "/dead-letters?state=resolved", nil)
	if !strings.Contains(visibleText(list.body), "Applied (1)") || !strings.Contains(list.body, release) {
		t.Fatalf("resolved list:\n%s", visibleText(list.body))
	}
}

// TestBrowserDeadLetters: an admin reads the queue and a letter in Chromium,
// both passing axe, and discards the letter with a reason.
func TestBrowserDeadLetters(t *testing.T) {
	l := startLedger(t)
	l.feedPost(feedMessage("B2222BB", "UNKNOWN", "ZZ", time.Now().Add(-2*time.Hour)))
	b := newBrowser(t, l, "deadletters")
	b.signIn(auth.RoleAdmin, "")
	b.visit("/dead-letters", "dead-letters")
	if got := b.text("#dead-letters"); !strings.Contains(got, "movement code ZZ") {
		t.Errorf("the queue says:\n%s", got)
	}
	b.do(chromedp.Click(chromedp.CSS("#dead-letters tbody a")), chromedp.WaitVisible(chromedp.ID("dead-letter")))
	b.page("dead-letter")
	b.do(chromedp.Click(chromedp.ID("discard")), chromedp.WaitVisible(chromedp.CSS(".govuk-error-summary")))
	b.page("discard-without-reason")
	b.do(chromedp.SendKeys(chromedp.ID("reason"), "An administrative merge, checked with MDI"),
		chromedp.Click(chromedp.ID("discard")), chromedp.WaitVisible(chromedp.CSS(".govuk-notification-banner")))
	b.page("discarded")
	if got := b.text("#dead-letter"); !strings.Contains(got, "An administrative merge, checked with MDI") {
		t.Errorf("the letter says:\n%s", got)
	}
}
