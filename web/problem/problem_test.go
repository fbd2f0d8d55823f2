package problem

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/ledger"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// TestOf: an error that is a problem answers as itself (wrapped or not);
// any other is classified, and what the caller learns is the kind's, never
// the error's own text.
func TestOf(t *testing.T) {
	own := New(NotFound, "no such dead letter")
	if got := Of(fmt.Errorf("handler: %w", own)); got != own {
		t.Fatalf("a wrapped problem answered %+v, not itself", got)
	}
	secret := errors.New("dial tcp 10.0.0.7:2113: connection refused")
	for _, tc := range []struct {
		name       string
		err        error
		kind       Kind
		retryAfter string
		fields     []string
		rule       string
	}{
		{name: "not found", err: fmt.Errorf("read: %w", auth.ErrNotFound), kind: NotFound},
		{name: "forbidden", err: auth.ErrForbidden, kind: Forbidden},
		{name: "access not recorded", err: ledger.ErrNotRecorded, kind: Unavailable, retryAfter: "5"},
		{name: "read model behind", err: &ledger.WaitError{Projection: "plans", Position: 9, Err: readmodel.ErrNotCaughtUp},
			kind: NotCaughtUp, retryAfter: "1"},
		{name: "body too large", err: &http.MaxBytesError{Limit: 10}, kind: TooLarge},
		{name: "invalid value", err: &aggregates.RuleError{Rule: "invalid-value", Err: aggregates.ErrInvalidValue, Field: "OffenceDate"},
			kind: Validation, fields: []string{"offenceDate"}},
		{name: "rule", err: &aggregates.RuleError{Rule: "fact-in-future", Err: errors.New("the fact is in the future"), Field: "at"},
			kind: RuleViolation, fields: []string{"at"}, rule: "fact-in-future"},
		{name: "anything else", err: secret, kind: Internal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Of(tc.err)
			if p.Kind != tc.kind {
				t.Fatalf("kind %s, want %s", p.Kind.Slug, tc.kind.Slug)
			}
			if got := p.Header["Retry-After"]; got != tc.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tc.retryAfter)
			}
			if p.Rule != tc.rule {
				t.Errorf("rule %q, want %q", p.Rule, tc.rule)
			}
			var fields []string
			for _, f := range p.Fields {
				fields = append(fields, f.Field)
			}
			if fmt.Sprint(fields) != fmt.Sprint(tc.fields) {
				t.Errorf("fields %v, want %v", fields, tc.fields)
			}
			if p.Detail == "" || p.Detail == secret.Error() {
				t.Errorf("detail %q", p.Detail)
			}
		})
	}
}

// TestKindsHaveOneStatus: every kind has a distinct slug, a title and an
// HTTP error status.
func TestKindsHaveOneStatus(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Kinds() {
		if seen[k.Slug] || k.Title == "" || k.Status < 400 || k.Status > 599 {
			t.Errorf("kind %+v", k)
		}
		seen[k.Slug] = true
	}
}
