package web

import (
	"errors"
	"io"
	"net/http"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/hmpps"
	"github.com/gateledger/gateledger/web/problem"
)

// ingestHMPPS takes one HMPPS domain event, bare or in its SNS envelope, from
// the feed principal. Applied and ignored messages answer 200; a message that
// cannot be applied is dead-lettered (kept with its reason) and answers 202,
// never 4xx, so that the sender does not retry or drop it. Only a failure to
// store answers 503: redeliver the message later.
func (s *server) ingestHMPPS(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if !auth.CanIngest(p) {
		return auth.ErrForbidden
	}
	if s.cfg.Feed == nil {
		return problem.New(problem.Unavailable, "the HMPPS feed is not enabled on this server")
	}
	// SNS posts with Content-Type text/plain, so any content type is taken;
	// the parser decides what the bytes are.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return problem.New(problem.MalformedRequest, "the body could not be read")
	}
	out, err := s.cfg.Feed.Ingest(r.Context(), body)
	if err != nil {
		s.metrics.feed.WithLabelValues("error").Inc()
		return &problem.Error{Kind: problem.Unavailable, Detail: "the message could not be stored; redeliver it", Err: err,
			Header: map[string]string{"Retry-After": "5"}}
	}
	s.metrics.feed.WithLabelValues(out.Disposition.String()).Inc()
	events := 0
	for _, c := range out.Commands {
		if !c.Duplicate {
			events += c.Events
		}
	}
	if events > 0 {
		s.metrics.appended.Add(float64(events))
	}
	status := http.StatusOK
	if out.Disposition == hmpps.DeadLetter {
		status = http.StatusAccepted
	}
	return writeJSON(w, status, feedOutcomeOf(out))
}
