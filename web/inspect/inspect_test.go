package inspect

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/ledger"
)

// TestPersonViews: find, timeline, as at, verification and history of one
// person, each recorded in the access log, for inspectors only.
func TestPersonViews(t *testing.T) {
	w := newWorld(t)
	noms := w.journey()
	ctx := context.Background()

	t.Run("find", func(t *testing.T) {
		for _, tc := range []struct {
			query, kind string
			want        []string
		}{
			{noms, "prison number", []string{noms}},
			{" a1234 bc ", "prison number", []string{noms}},
			{"x123456", "CRN", []string{noms}},
			{"Z9999ZZ", "prison number", []string{}},
			{"X000000", "CRN", []string{}},
		} {
			res, err := w.insp.Find(ctx, inspector, tc.query)
			if err != nil {
				t.Fatalf("%q: %v", tc.query, err)
			}
			var got []string
			for _, m := range res.Matches {
				got = append(got, m.NOMS)
			}
			if res.Kind != tc.kind || !slices.Equal(nonNil(got), tc.want) {
				t.Errorf("Find(%q) = %s %v, want %s %v", tc.query, res.Kind, got, tc.kind, tc.want)
			}
		}
		res, _ := w.insp.Find(ctx, inspector, noms)
		if m := res.Matches[0]; m.Prison != "MDI" || m.CRN != "X123456" || m.Events != 6 || m.Responsible != "MDI" {
			t.Errorf("match %+v", m)
		}
		for _, q := range []string{"", "   ", "Smith", "A1234B", "1234567"} {
			var ie *InputError
			if _, err := w.insp.Find(ctx, inspector, q); !errors.As(err, &ie) || ie.Errors[0].Field != "query" {
				t.Errorf("Find(%q): %v, want an input error on query", q, err)
			}
		}
	})

	t.Run("timeline", func(t *testing.T) {
		v, err := w.insp.Timeline(ctx, inspector, noms)
		if err != nil {
			t.Fatal(err)
		}
		if v.Person.CRN != "X123456" || v.Person.Prison != "MDI" || v.Person.Events != 6 || len(v.Items) != 6 {
			t.Fatalf("timeline %+v", v)
		}
		first, last := v.Items[len(v.Items)-1], v.Items[0]
		if first.Type != "PrisonerReceived" || first.Title != "Received into custody" || last.Type != "CRNLinked" {
			t.Fatalf("newest first: first %+v last %+v", first, last)
		}
		if first.UserID != "user-MDI" || first.Organisation != "MDI" || first.Source != "ui" || len(first.Hash) != 64 ||
			first.OccurredAt.Location().String() != "Europe/London" || first.Late {
			t.Errorf("who, where, when: %+v", first)
		}
		if !slices.Contains(first.Details, Detail{Name: "Prison", Value: "MDI"}) || !slices.Contains(first.Details, Detail{Name: "Reception kind", Value: "Sentence"}) {
			t.Errorf("details %+v", first.Details)
		}
		for k := 1; k < len(v.Items); k++ {
			if v.Items[k].Position >= v.Items[k-1].Position {
				t.Fatal("items are not newest first")
			}
		}
	})

	t.Run("as at", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			date    aggregates.Date
			known   bool
			events  int
			plan    int
			pathway aggregates.PathwayStatus
		}{
			{"before reception", aggregates.NewDate(2024, 6, 2), false, 0, 0, aggregates.StatusNotStarted},
			{"after screening", aggregates.NewDate(2024, 6, 3), true, 2, 0, aggregates.StatusNotStarted},
			{"after the need", aggregates.NewDate(2024, 6, 5), true, 3, 0, aggregates.StatusSupportRequired},
			{"after the plan", aggregates.NewDate(2024, 6, 6), true, 6, 1, aggregates.StatusSupportRequired},
		} {
			t.Run(tc.name, func(t *testing.T) {
				v, err := w.insp.AsAt(ctx, inspector, noms, AsAtQuery{Date: tc.date})
				if err != nil {
					t.Fatal(err)
				}
				if v.Known != tc.known || v.Events != tc.events || v.Total != 6 {
					t.Fatalf("known %v events %d/%d, want %v %d/6", v.Known, v.Events, v.Total, tc.known, tc.events)
				}
				if !tc.known {
					return
				}
				if v.Plan.Plan.Revision != tc.plan || v.Plan.Pathways[0].Status != tc.pathway {
					t.Errorf("plan revision %d, accommodation %q; want %d %q", v.Plan.Plan.Revision, v.Plan.Pathways[0].Status, tc.plan, tc.pathway)
				}
				if v.At.Hour() != 23 || v.At.Location().String() != "Europe/London" {
					t.Errorf("as at %v, want the end of the day in London", v.At)
				}
			})
		}
		tl, _ := w.insp.Timeline(ctx, inspector, noms)
		second := tl.Items[len(tl.Items)-2]
		v, err := w.insp.AsAt(ctx, inspector, noms, AsAtQuery{Position: second.Position})
		if err != nil {
			t.Fatal(err)
		}
		if v.Events != 2 || v.LastEvent.Type != "CustodyScreeningCompleted" || v.Plan.Deadlines.Screening.Met != true {
			t.Fatalf("as at the screening: %+v", v)
		}
		var ie *InputError
		if _, err := w.insp.AsAt(ctx, inspector, noms, AsAtQuery{}); !errors.As(err, &ie) {
			t.Fatalf("no date: %v", err)
		}
	})

	t.Run("verify", func(t *testing.T) {
		v, err := w.insp.Verify(ctx, inspector, noms)
		if err != nil {
			t.Fatal(err)
		}
		if !v.OK || v.Checked != 6 || v.Break != nil || len(v.Mismatches) != 0 || len(v.Head) != 64 {
			t.Fatalf("verification %+v", v)
		}
	})

	t.Run("history", func(t *testing.T) {
		es, err := w.insp.History(ctx, inspector, noms)
		if err != nil || len(es) != 6 {
			t.Fatalf("history: %d entries, %v", len(es), err)
		}
	})

	t.Run("outcomes", func(t *testing.T) {
		v, err := w.insp.Outcomes(ctx, inspector, "")
		if err != nil || len(v.ByProvider) != 0 || v.Chart.Title == "" {
			t.Fatalf("nobody released yet: %+v, %v", v, err)
		}
	})

	t.Run("not found and malformed", func(t *testing.T) {
		if _, err := w.insp.Timeline(ctx, inspector, "Z9999ZZ"); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("unknown person: %v", err)
		}
		var ie *InputError
		if _, err := w.insp.Timeline(ctx, inspector, "../etc"); !errors.As(err, &ie) {
			t.Errorf("malformed: %v", err)
		}
	})

	t.Run("inspectors only", func(t *testing.T) {
		for _, p := range []auth.Principal{provider, {ID: "x", Role: auth.RoleAdmin}, {}} {
			calls := map[string]error{}
			_, calls["find"] = w.insp.Find(ctx, p, noms)
			_, calls["timeline"] = w.insp.Timeline(ctx, p, noms)
			_, calls["as at"] = w.insp.AsAt(ctx, p, noms, AsAtQuery{Position: 1})
			_, calls["verify"] = w.insp.Verify(ctx, p, noms)
			_, calls["history"] = w.insp.History(ctx, p, noms)
			_, calls["outcomes"] = w.insp.Outcomes(ctx, p, "")
			for name, err := range calls {
				if !errors.Is(err, auth.ErrForbidden) {
					t.Errorf("%s as %s: %v, want forbidden", name, p.Role, err)
				}
			}
		}
	})

	seen := w.accesses()
	for _, want := range []string{"find person " + noms, "find person X123456", "read audit trail " + noms,
		"read plan " + noms, "verify journey " + noms, "export audit trail " + noms} {
		if seen[inspector.ID+" "+want] == 0 {
			t.Errorf("access log lacks %q: %v", want, seen)
		}
	}
	for k := range seen {
		if strings.HasPrefix(k, provider.ID) {
			t.Errorf("a refused read was recorded: %s", k)
		}
	}
}

// TestNotRecordedNotShown: when the access log cannot record a read, nothing
// of the person is returned.
func TestNotRecordedNotShown(t *testing.T) {
	w := newWorld(t)
	noms := w.journey()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.access.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := w.insp.Timeline(ctx, inspector, noms); !errors.Is(err, ledger.ErrNotRecorded) || len(v.Items) != 0 {
		t.Errorf("timeline: %v, %d items", err, len(v.Items))
	}
	if es, err := w.insp.History(ctx, inspector, noms); !errors.Is(err, ledger.ErrNotRecorded) || es != nil {
		t.Errorf("history: %v", err)
	}
	if _, err := w.insp.AsAt(ctx, inspector, noms, AsAtQuery{Position: 1 << 40}); !errors.Is(err, ledger.ErrNotRecorded) {
		t.Errorf("as at: %v", err)
	}
	if _, err := w.insp.Verify(ctx, inspector, noms); !errors.Is(err, ledger.ErrNotRecorded) {
		t.Errorf("verify: %v", err)
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
