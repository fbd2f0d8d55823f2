package pages

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/ingest"
	"github.com/gateledger/gateledger/labels"
	"github.com/gateledger/gateledger/projections"
)

// templateFiles are the pages' templates: layout.html (the GOV.UK page
// template: skip link, header, role navigation, phase banner, footer) and
// one file per page, each defining "title" and "content" (and optionally
// "scripts"); files starting with "_" hold partials every page may use.
//
//go:embed templates/*.html
var templateFiles embed.FS

// templates holds each page parsed together with the layout.
type templates struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	// date shows a calendar date the GOV.UK way: 5 January 2026.
	"date": labels.Date,
	// when shows an instant in UK time: 5 January 2026, 2:04pm.
	"when": labels.When,
	// day is the UK date of an instant: 5 January 2026.
	"day": labels.Day,
	// isoTime is an instant for a <time datetime> attribute.
	"isoTime": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	// words says a code in words: a typed enum by its label, a code passed
	// as a string (a reason for attention) by the label the table gives it.
	"words": labels.Words,
	// label is the label of a typed enum (a stage, a status, a direction).
	"label": labels.Of,
	// eventLabel says what an event type records: "Release area changed".
	"eventLabel": labels.EventType,
	// handoverReason says why a handover was asked for.
	"handoverReason": labels.HandoverReason,
	"join":           strings.Join,
	"pathway":        pathwayName,
	// stepLabel names a step of a dead letter's history.
	"stepLabel": ingest.StepLabel,
	// attentionLabel says a reason for attention in plain words (one table:
	// projections.AttentionLabel).
	"attentionLabel": projections.AttentionLabel,
	// attentionClass colours a reason for attention: red when something is
	// overdue or past, orange otherwise.
	"attentionClass": func(reason string) string {
		if strings.Contains(reason, "OVERDUE") || strings.Contains(reason, "PASSED") || strings.Contains(reason, "ENDED") ||
			strings.Contains(reason, "REJECTED") || strings.Contains(reason, "OVERTAKEN") || reason == "NO_RELEASE_AREA" {
			return "govuk-tag--red"
		}
		return "govuk-tag--orange"
	},
	// statusClass is the GOV.UK tag colour of a pathway status.
	"statusClass": func(status string) string {
		switch status {
		case "DONE", "SUPPORT_NOT_REQUIRED":
			return "govuk-tag--green"
		case "IN_PROGRESS":
			return "govuk-tag--blue"
		case "SUPPORT_REQUIRED":
			return "govuk-tag--orange"
		case "SUPPORT_DECLINED":
			return "govuk-tag--purple"
		}
		return "govuk-tag--grey"
	},
	// concatHandovers lists receiving then sending handovers.
	"concatHandovers": func(a, b []projections.HandoverRow) []projections.HandoverRow { return slices.Concat(a, b) },
	// dict builds the argument of a partial template from pairs.
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict: odd number of arguments")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
}

func pathwayName(p aggregates.Pathway) string { return labels.Of(p) }

// words says an upper-case code in words (labels.Code).
func words(s string) string { return labels.Code(s) }

func parseTemplates() (*templates, error) {
	// The layout and the partials (files starting with "_") are the base
	// every page is parsed into.
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/_*.html")
	if err != nil {
		return nil, fmt.Errorf("pages: layout: %w", err)
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	t := &templates{byName: map[string]*template.Template{}}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" || strings.HasPrefix(base, "_") {
			continue
		}
		c, err := layout.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := c.ParseFS(templateFiles, n); err != nil {
			return nil, fmt.Errorf("pages: %s: %w", n, err)
		}
		t.byName[strings.TrimSuffix(base, ".html")] = c
	}
	return t, nil
}

// page is what every page template gets. Handlers set Title, Body (the
// page's own data, as .Body) and Errors; render fills in the rest.
type page struct {
	// Title is the page's h1 and the start of its <title>.
	Title string
	// Body is the page's own data.
	Body any
	// Errors, when any, show the GOV.UK error summary, and the <title>
	// starts with "Error: ".
	Errors []fieldError
	// Notice is a success message (a GOV.UK notification banner).
	Notice string
	// NoticeImportant shows Notice as information rather than success: the
	// command recorded only history, or nothing (set by render from the
	// redirect's "outcome").
	NoticeImportant bool
	// Back, when set, is the back link above the page's content.
	Back *link

	// Set by render.
	// Template names the page's template (on <body data-page>, for
	// styles and tests).
	Template string
	User     *auth.Principal
	Nav      []navItem
	CSRF     string
	Styled   bool
}

// fieldError is one message of the error summary. Field names the input
// (or group of inputs) it is about, for the message beside it; Anchor is the
// id of the input the summary links to (Field when empty). A message with
// neither is about the whole form.
type fieldError struct {
	Field, Anchor, Message string
}

// Href is where the summary's link goes, or "" for no link.
func (e fieldError) Href() string {
	if e.Anchor != "" {
		return "#" + e.Anchor
	}
	if e.Field != "" {
		return "#" + e.Field
	}
	return ""
}

// ErrorFor returns the message about field, for the input's own error
// message.
func (p page) ErrorFor(field string) string {
	for _, e := range p.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// link is a link for people to follow.
type link struct{ Href, Text string }

// navItem is one link of the role navigation.
type navItem struct {
	Label, Href string
	Current     bool
}

// nav is the navigation of p: the routes that name a Nav label for p's role,
// in route order; current marks the one whose path starts the request's.
func (s *server) nav(p auth.Principal, current string) []navItem {
	var out []navItem
	for _, rt := range s.routes {
		if rt.Nav == "" || !allows(rt, p.Role) {
			continue
		}
		out = append(out, navItem{Label: rt.Nav, Href: rt.Path,
			Current: current == rt.Path || strings.HasPrefix(current, rt.Path+"/")})
	}
	return out
}

func allows(rt route, role auth.Role) bool {
	if len(rt.Roles) == 0 {
		return true
	}
	for _, r := range rt.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// render writes the page named name with status. A template that fails is
// answered with a plain 500 (the template is at fault, not the request).
func (s *server) render(w http.ResponseWriter, r *http.Request, sess *session, status int, name string, p page) {
	t, ok := s.tmpl.byName[name]
	if !ok {
		s.log.ErrorContext(r.Context(), "pages: no such template", "template", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p.Styled = assetsBuilt()
	p.Template = name
	if p.Notice != "" && r.URL.Query().Get("outcome") != "" {
		p.NoticeImportant = true
	}
	if sess != nil {
		u := sess.principal
		p.User = &u
		p.Nav = s.nav(u, r.URL.Path)
		p.CSRF = sess.csrf
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		s.log.ErrorContext(r.Context(), "pages: template failed", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// urlQueryEscape escapes a value for a query string.
func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// localPath returns next if it is a path on this site (so that a sign-in
// link cannot send the user elsewhere), else "/". It returns next as given,
// never re-encoded: decoding and re-encoding "/%2f" would make "//", which
// browsers read as another host.
func localPath(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\") {
		return "/"
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return next
}
