package pages

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/projections"
)

// TestSessionLifetimes: a session ends after its lifetime or when unused
// for the idle time, and the oldest is forgotten at the bound.
func TestSessionLifetimes(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	p := auth.Principal{ID: "token:t", Name: "T", Role: auth.RolePrison, Org: "MDI"}
	verify := func(context.Context, string) (auth.Principal, error) { return p, nil }
	ss := NewSessions(SessionsConfig{Verify: verify, Lifetime: 8 * time.Hour, Idle: 30 * time.Minute, Max: 2,
		Clock: func() time.Time { return now }})
	req := func(id string) *http.Request {
		r, _ := http.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: SessionCookie, Value: id})
		return r
	}
	lookup := func(id string) error { _, err := ss.lookup(context.Background(), req(id)); return err }

	a, _ := ss.create(p, "tok")
	for _, step := range []time.Duration{29 * time.Minute, 29 * time.Minute, 29 * time.Minute} {
		now = now.Add(step)
		if err := lookup(a); err != nil {
			t.Fatalf("used every 29 minutes, ended at %v: %v", now, err)
		}
	}
	now = now.Add(31 * time.Minute)
	if err := lookup(a); !errors.Is(err, errNoSession) {
		t.Fatalf("unused for 31 minutes: %v", err)
	}

	b, _ := ss.create(p, "tok")
	opened := now
	for now.Add(29*time.Minute).Sub(opened) < 8*time.Hour {
		now = now.Add(29 * time.Minute)
		if err := lookup(b); err != nil {
			t.Fatalf("used every 29 minutes, ended after %v: %v", now.Sub(opened), err)
		}
	}
	now = now.Add(29 * time.Minute)
	if err := lookup(b); !errors.Is(err, errNoSession) {
		t.Fatalf("still open after %v: %v", now.Sub(opened), err)
	}

	c, _ := ss.create(p, "tok")
	now = now.Add(time.Minute)
	d, _ := ss.create(p, "tok")
	now = now.Add(time.Minute)
	e, _ := ss.create(p, "tok")
	if lookup(c) == nil || lookup(d) != nil || lookup(e) != nil {
		t.Errorf("at the bound of 2 the oldest session should go: c %v d %v e %v", lookup(c), lookup(d), lookup(e))
	}
	if err := lookup("made-up"); !errors.Is(err, errNoSession) {
		t.Errorf("made-up id: %v", err)
	}

	// A credential that stops verifying ends the session; one that cannot
	// be checked keeps it.
	fail := auth.ErrUnavailable
	ss2 := NewSessions(SessionsConfig{Verify: func(context.Context, string) (auth.Principal, error) { return auth.Principal{}, fail },
		Clock: func() time.Time { return now }})
	f, _ := ss2.create(p, "tok")
	if _, err := ss2.lookup(context.Background(), req(f)); !errors.Is(err, auth.ErrUnavailable) || ss2.Len() != 1 {
		t.Errorf("unavailable: %v, %d sessions", err, ss2.Len())
	}
	fail = auth.ErrInvalidToken
	if _, err := ss2.lookup(context.Background(), req(f)); !errors.Is(err, errNoSession) || ss2.Len() != 0 {
		t.Errorf("revoked: %v, %d sessions", err, ss2.Len())
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "/",
		"/prison/people":          "/prison/people",
		"/prison/people?at=3":     "/prison/people?at=3",
		"//evil.example/x":        "/",
		"/\\evil.example":         "/",
		"https://evil.example/":   "/",
		"javascript:alert(1)":     "/",
		"prison/people":           "/",
		"/%2F%2Fevil.example":     "/%2F%2Fevil.example",
		"/%2f ":                   "/%2f ",
		"/a/../../evil":           "/a/../../evil",
		"http://127.0.0.1/prison": "/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "//x", "/\\x", "/a?b=c", "https://x/", "/%2f%2fx", "\t//x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := localPath(s)
		u, err := url.Parse(got)
		if err != nil || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") ||
			u.Host != "" || u.Scheme != "" {
			t.Fatalf("localPath(%q) = %q leaves the site", s, got)
		}
	})
}

func FuzzFormDate(f *testing.F) {
	f.Add("27", "3", "2026", "14:30")
	f.Add("31", "2", "2030", "")
	f.Add("", "", "", "")
	f.Add("1", "1", "99999999999999999999", "25:61")
	f.Fuzz(func(t *testing.T, d, m, y, hm string) {
		fm := &form{values: url.Values{"at-day": {d}, "at-month": {m}, "at-year": {y}, "at-time": {hm}}}
		var p problems
		at := fm.when(&p, "at", "the date")
		if (at == "") == (len(p.errs) == 0) {
			t.Fatalf("%q %q %q %q: value %q with %d problems", d, m, y, hm, at, len(p.errs))
		}
		if at != "" {
			if _, err := time.Parse(time.RFC3339, at); err != nil {
				t.Fatalf("not RFC 3339: %q", at)
			}
		}
	})
}

func TestNextDeadline(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	v := projections.PlanView{Custody: aggregates.InCustody}
	if _, ok := nextDeadline(v, now); ok {
		t.Error("a deadline with none due")
	}
	v.Deadlines.Screening = projections.DeadlineView{Due: now.Add(-time.Hour), Met: true}
	v.Deadlines.Plan = projections.DeadlineView{Due: now.Add(48 * time.Hour)}
	v.Deadlines.Handover = projections.DeadlineView{Due: now.Add(240 * time.Hour)}
	d, ok := nextDeadline(v, now)
	if !ok || d.Label != "Plan due" || d.Tag != tagDueSoon {
		t.Errorf("next %+v, want the plan, due soon", d)
	}
	v.Deadlines.Handover = projections.DeadlineView{Due: now.Add(-time.Hour), Overdue: true}
	d, _ = nextDeadline(v, now)
	if d.Label != "Handover decision due" || d.Tag != tagOverdue {
		t.Errorf("next %+v, want the overdue handover first", d)
	}
	v.Deadlines.Handover = projections.DeadlineView{Due: now.Add(240 * time.Hour)}
	v.Deadlines.Plan = projections.DeadlineView{Due: now.Add(96 * time.Hour)}
	d, _ = nextDeadline(v, now)
	if d.Label != "Plan due" || d.Tag != nil {
		t.Errorf("next %+v, want the plan without a tag", d)
	}
}
