package pages_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/web/pages"
)

// TestBrowserSignInAndPrisonPeople: a prison user is sent to sign in, is
// refused a wrong token with the error summary, signs in, sees the people in
// the prison, and signs out.
func TestBrowserSignInAndPrisonPeople(t *testing.T) {
	l := startLedger(t)
	l.receive("A1234BC", "MDI")
	l.receive("B2345CD", "LEI")
	b := newBrowser(t, l, "prison")

	b.visit("/prison/people", "redirected-to-sign-in")
	if loc := run(b, chromedp.Location()); !strings.Contains(loc, "/sign-in?next=%2Fprison%2Fpeople") {
		t.Fatalf("not sent to sign in: %s", loc)
	}
	b.do(chromedp.SendKeys(chromedp.ID("token"), "glt_not-a-real-token"),
		chromedp.Click(chromedp.CSS("form[action='/sign-in'] button")),
		chromedp.WaitVisible(chromedp.CSS(".govuk-error-summary")))
	b.page("wrong-token")
	if got := b.text(".govuk-error-summary__list a"); !strings.Contains(got, "not valid") {
		t.Errorf("error summary says %q", got)
	}
	if title := run(b, chromedp.Title()); !strings.HasPrefix(title, "Error: ") {
		t.Errorf("title %q does not start with Error:", title)
	}

	b.do(chromedp.SendKeys(chromedp.ID("token"), l.token(auth.RolePrison, "MDI")),
		chromedp.Click(chromedp.CSS("form[action='/sign-in'] button")),
		chromedp.WaitVisible(chromedp.ID("people")))
	b.page("people")
	if loc := run(b, chromedp.Location()); !strings.HasSuffix(loc, "/prison/people") {
		t.Errorf("after sign-in at %s, want the page asked for", loc)
	}
	b.narrow("people")
	table := b.text("#people")
	if !strings.Contains(table, "A1234BC") || strings.Contains(table, "B2345CD") {
		t.Errorf("people table shows the wrong people:\n%s", table)
	}

	cookies := run(b, chromedp.Action[[]*network.Cookie](func(ctx context.Context, tg *chromedp.Target) ([]*network.Cookie, error) {
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{l.URL}})
		return res.Cookies, err
	}))
	var found bool
	for _, c := range cookies {
		if c.Name != pages.SessionCookie {
			continue
		}
		found = true
		if !c.Secure || !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax {
			t.Errorf("session cookie: secure %v, httpOnly %v, sameSite %q; want Secure, HttpOnly, Lax", c.Secure, c.HTTPOnly, c.SameSite)
		}
	}
	if !found {
		t.Errorf("no session cookie among %d cookies", len(cookies))
	}

	b.do(chromedp.Click(chromedp.CSS("form[action='/sign-out'] button")), chromedp.WaitVisible(chromedp.CSS(".govuk-notification-banner")))
	b.page("signed-out")
	b.visit("/prison/people", "after-sign-out")
	if loc := run(b, chromedp.Location()); !strings.Contains(loc, "/sign-in") {
		t.Errorf("after sign-out /prison/people is at %s, want the sign-in page", loc)
	}
}

// TestBrowserRoleRefused: a provider who opens a prison page gets the
// "You cannot do this" page, which passes axe too.
func TestBrowserRoleRefused(t *testing.T) {
	l := startLedger(t)
	b := newBrowser(t, l, "provider")
	b.signIn(auth.RoleProvider, "NPS-C")
	b.visit("/prison/people", "prison-page-refused")
	if h := b.text("main h1"); h != "You cannot do this" {
		t.Errorf("heading %q", h)
	}
	b.visit("/no-such-page", "not-found")
	if h := b.text("main h1"); h != "Page not found" {
		t.Errorf("heading %q", h)
	}
}
