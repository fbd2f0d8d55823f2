package web

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gateledger/gateledger/ledger"
	"github.com/gateledger/gateledger/web/problem"
)

// Problem is an RFC 9457 problem details object: how the API renders a
// *problem.Error.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Errors lists the invalid fields of a validation or malformed-request
	// problem.
	Errors []problem.FieldError `json:"errors,omitempty"`
	// Rule is the aggregate's rule slug of a rule-violation problem.
	Rule string `json:"rule,omitempty"`
	// CurrentRevision is the journey's revision in a revision-mismatch
	// problem (-1: no events).
	CurrentRevision *int64 `json:"currentRevision,omitempty"`
}

// writeProblem answers with the problem for err (problem.Of); a 5xx is
// logged with the error, which never reaches the client.
func (s *server) writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	pe := problem.Of(err)
	s.countAccessFailure(err)
	if pe.Kind.Status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", "route", routeOf(r), "problem", pe.Kind.Slug, "err", err)
	}
	for k, v := range pe.Header {
		w.Header().Set(k, v)
	}
	writeProblemBody(w, Problem{Type: pe.Kind.Type(), Title: pe.Kind.Title, Status: pe.Kind.Status, Detail: pe.Detail,
		Instance: r.URL.Path, Errors: pe.Fields, Rule: pe.Rule, CurrentRevision: pe.Revision})
}

// countAccessFailure counts a read refused because the access log could not
// record it.
func (s *server) countAccessFailure(err error) {
	if errors.Is(err, ledger.ErrNotRecorded) {
		s.metrics.accessFail.Inc()
	}
}

func writeProblemBody(w http.ResponseWriter, p Problem) {
	b, err := json.Marshal(p)
	if err != nil { // cannot happen: the struct holds strings and numbers
		b = []byte(`{"type":"` + problem.Internal.Type() + `","title":"Internal error","status":500}`)
		p.Status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Del("ETag")
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(b, '\n'))
}
