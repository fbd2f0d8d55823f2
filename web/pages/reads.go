package pages

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gateledger/gateledger/auth"
)

// record stores an access in the access log before the page is sent, as the
// API does: a read that cannot be recorded is not served.
func (s *server) record(ctx context.Context, p auth.Principal, what, subject string) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.WaitTimeout)
	defer cancel()
	if err := s.cfg.AccessLog.Record(ctx, p, what, subject); err != nil {
		return errorsJoinUnavailable(err)
	}
	return nil
}

// waitRead waits until projection has applied the $all position in the
// query parameter "at" (set by the redirect after a command, so that the
// page shows what was just recorded). A missing or malformed "at" waits for
// nothing.
func (s *server) waitRead(r *http.Request, projection string) error {
	at, err := strconv.ParseUint(r.URL.Query().Get("at"), 10, 64)
	if err != nil || at == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.WaitTimeout)
	defer cancel()
	return s.cfg.Runner.WaitFor(ctx, projection, at)
}
