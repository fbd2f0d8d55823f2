package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/journeys"
	"github.com/gateledger/gateledger/ledger"
)

// Headers of the API.
const (
	// HeaderPosition carries the $all position of a command's last event,
	// and of the state a read reflects.
	HeaderPosition = "Gateledger-Position"
	// HeaderMinPosition asks a read to wait until the read model has reached
	// a position (read-your-writes after a command).
	HeaderMinPosition = "Gateledger-Min-Position"
	// HeaderProjections says, after a command sent with ?wait=true, whether
	// every read model reflected it before the answer ("caught-up") or the
	// wait timed out ("behind").
	HeaderProjections = "Gateledger-Projections"
	// HeaderReplayed is "true" on the answer to a retried Idempotency-Key.
	HeaderReplayed = "Idempotent-Replayed"
)

// maxKeyLen bounds an Idempotency-Key.
const maxKeyLen = 128

// eventRef names one recorded event.
type eventRef struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Revision uint64 `json:"revision"`
}

// commandAnswer is the body of a command's answer. It holds only what the
// first answer and a retry under the same Idempotency-Key both know, so that
// the two are byte for byte the same.
type commandAnswer struct {
	NOMS     string     `json:"noms"`
	Command  string     `json:"command"`
	Revision int64      `json:"revision"`
	Position uint64     `json:"position"`
	Events   []eventRef `json:"events"`
}

// command is the handler of one command route.
func (s *server) command(c commandRoute) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		params, err := commandParams(r)
		if err != nil {
			return err
		}
		key, err := idempotencyKey(r)
		if err != nil {
			return err
		}
		ifRev, err := parseIfMatch(r.Header.Get("If-Match"))
		if err != nil {
			return err
		}
		wait, err := boolQuery(r, "wait")
		if err != nil {
			return err
		}
		if err := checkJSONContentType(r); err != nil {
			return err
		}
		body := c.New()
		if err := decodeJSON(r.Body, body); err != nil {
			return err
		}
		cmd, err := body.command(params)
		if err != nil {
			s.metrics.command(c.Name, "refused", 0)
			return err
		}
		res, err := s.run(r.Context(), p, params.NOMS, cmd, key, ifRev, infoOf(r.Context()).id)
		if err != nil {
			outcome := "refused"
			if classify(err).kind.Status >= 500 {
				outcome = "failed"
			}
			s.metrics.command(c.Name, outcome, 0)
			return err
		}
		answer := commandAnswer{NOMS: params.NOMS, Command: c.Name, Revision: res.Revision, Position: res.Position.Commit,
			Events: make([]eventRef, 0, len(res.Events))}
		for _, ev := range res.Events {
			answer.Events = append(answer.Events, eventRef{ID: ev.ID.String(), Type: ev.Type, Revision: ev.Revision})
		}
		status := http.StatusOK
		switch {
		case res.Duplicate:
			s.metrics.command(c.Name, "duplicate", 0)
			status = http.StatusCreated
			w.Header().Set(HeaderReplayed, "true")
		case len(res.Events) > 0:
			s.metrics.command(c.Name, "recorded", len(res.Events))
			status = http.StatusCreated
		default:
			s.metrics.command(c.Name, "unchanged", 0)
		}
		h := w.Header()
		h.Set("ETag", etag(res.Revision))
		h.Set(HeaderPosition, strconv.FormatUint(res.Position.Commit, 10))
		h.Set("Location", "/v1/journeys/"+params.NOMS)
		if wait {
			h.Set(HeaderProjections, s.waitAll(r.Context(), res.Position.Commit))
		}
		return writeJSON(w, status, answer)
	}
}

// run authorises and runs a command through the ledger (ledger.Command): the
// command is decided on exactly the revision it was authorised on.
//
// Idempotency keys are scoped to the principal ("http:<principal id>:<key>"),
// so that one caller's key can never answer with another's result. A key
// that already recorded events in the journey is answered by the command
// service from those events (Result.Duplicate) without authorising again:
// the journey may have moved on (an accepted handover is no longer open),
// and the answer repeats only what the same principal was told the first
// time.
func (s *server) run(ctx context.Context, p auth.Principal, noms string, cmd aggregates.Command, key string, ifRev *int64, requestID string) (journeys.Result, error) {
	scoped := ""
	if key != "" {
		scoped = "http:" + p.ID + ":" + key
	}
	return s.cfg.Ledger.Command(ctx, p, noms, cmd, ledger.CommandOptions{Source: aggregates.SourceAPI, IdempotencyKey: scoped,
		IfRevision: ifRev, CorrelationID: requestID})
}

// waitAll waits until every read model has reached pos.
func (s *server) waitAll(ctx context.Context, pos uint64) string {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.WaitTimeout)
	defer cancel()
	for _, st := range s.cfg.Runner.Status() {
		if err := s.cfg.Runner.WaitFor(ctx, st.Name, pos); err != nil {
			return "behind"
		}
	}
	return "caught-up"
}

// commandParams reads and checks the path parameters of a command route.
func commandParams(r *http.Request) (pathParams, error) {
	var v validator
	p := pathParams{NOMS: v.ident("noms", "noms", r.PathValue("noms"), true)}
	if pw := r.PathValue("pathway"); r.Pattern != "" && strings.Contains(r.Pattern, "{pathway}") {
		if !aggregates.Pathway(pw).Valid() {
			v.add("pathway", "must be one of %s", pathwayNames)
		}
		p.Pathway = aggregates.Pathway(pw)
	}
	if strings.Contains(r.Pattern, "{id}") {
		p.ActionID = v.ident("id", "actionId", r.PathValue("id"), true)
	}
	return p, v.err()
}

// idempotencyKey reads the Idempotency-Key header: optional, 1-128 printable
// ASCII characters.
func idempotencyKey(r *http.Request) (string, error) {
	vals := r.Header.Values("Idempotency-Key")
	if len(vals) == 0 {
		return "", nil
	}
	k := vals[0]
	if len(vals) > 1 || k == "" || len(k) > maxKeyLen {
		return "", validationProblem(FieldError{Field: "Idempotency-Key", Message: "send one key of 1-128 printable ASCII characters"})
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return "", validationProblem(FieldError{Field: "Idempotency-Key", Message: "send one key of 1-128 printable ASCII characters"})
		}
	}
	return k, nil
}

// etag is the strong entity tag of a journey revision.
func etag(rev int64) string { return `"` + strconv.FormatInt(rev, 10) + `"` }

// parseIfMatch reads If-Match: one strong entity tag holding a revision
// ("-1" for a journey with no events), as ETag gives it. Several tags, weak
// tags and "*" are refused: a command is decided on exactly one state.
func parseIfMatch(v string) (*int64, error) {
	if v == "" {
		return nil, nil
	}
	bad := validationProblem(FieldError{Field: "If-Match", Message: `send the ETag of the journey, a quoted revision such as "3"`})
	v = strings.TrimSpace(v)
	if len(v) < 3 || v[0] != '"' || v[len(v)-1] != '"' {
		return nil, bad
	}
	n, err := strconv.ParseInt(v[1:len(v)-1], 10, 64)
	if err != nil || n < -1 {
		return nil, bad
	}
	return &n, nil
}

// boolQuery reads an optional true/false query parameter.
func boolQuery(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, validationProblem(FieldError{Field: name, Message: "must be true or false"})
	}
	return b, nil
}
