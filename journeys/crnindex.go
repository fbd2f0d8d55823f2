package journeys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
)

// A CRN belongs to one person. The journey aggregate sees one person, so the
// rule needs an index across journeys; it lives in the store, not in a read
// model, because read models lag and several ledger instances may share one
// store. The index is one stream per CRN, "crn-<CRN>", whose first event,
// CRNClaimed, names the prison number that holds it. A claim is appended with
// expected revision "no stream": of two instances linking one CRN to two
// people at once, exactly one append succeeds and the other reads the winner.
//
// The claim is made after the aggregate has accepted the link and before the
// journey's events are appended. If that append then fails for good, the claim
// stays, naming this person: the person can still link the CRN, and nobody
// else could have been given it meanwhile, which is the safe side. A CRN
// corrected away from a person (CorrectFact of field crn) keeps its claim:
// freeing a CRN is a decision for a person with both records in front of them,
// not a side effect.
//
// Journeys that linked CRNs before the index existed have no claims; `gateledger
// replay` or an import rebuilds none of them today (see docs/organisations.md).

// TypeCRNClaimed is the event type of a claim in a CRN stream.
const TypeCRNClaimed = "CRNClaimed"

// CRNStream is the index stream of a CRN.
func CRNStream(crn string) string { return "crn-" + crn }

// crnClaim is the payload of CRNClaimed (schema version 1).
type crnClaim struct {
	CRN  string `json:"crn"`
	NOMS string `json:"nomsNumber"`
}

// ErrCRNInUse: a CRN linked to one person is linked to another. Matches
// *CRNInUseError, which also matches aggregates.ErrAlreadyRecorded and is a
// *aggregates.RuleError under errors.As (rule "crn-belongs-to-one-person").
var ErrCRNInUse = errors.New("CRN already linked to another person")

// CRNInUseError refuses a link of a CRN held by another journey. Its message
// does not name that journey: whether the caller may learn it is the
// authorisation policy's decision (web answers with Disclosed when the
// principal may read Other).
type CRNInUseError struct {
	CRN   string
	Other string // the prison number whose journey holds the CRN
	rule  *aggregates.RuleError
}

func newCRNInUse(crn, other string) *CRNInUseError {
	return &CRNInUseError{CRN: crn, Other: other, rule: &aggregates.RuleError{Rule: "crn-belongs-to-one-person",
		Err: aggregates.ErrAlreadyRecorded, Field: "CRN", Detail: fmt.Sprintf("%s is linked to another person's journey", crn)}}
}

func (e *CRNInUseError) Error() string { return e.rule.Error() }

// Unwrap exposes the rule error (and through it aggregates.ErrAlreadyRecorded).
func (e *CRNInUseError) Unwrap() error { return e.rule }

// Is matches ErrCRNInUse.
func (e *CRNInUseError) Is(target error) bool { return target == ErrCRNInUse }

// Disclosed is the same refusal naming the other journey, for a caller the
// authorisation policy lets read it.
func (e *CRNInUseError) Disclosed() *CRNInUseError {
	r := *e.rule
	r.Detail = fmt.Sprintf("%s is linked to the journey of %s", e.CRN, e.Other)
	return &CRNInUseError{CRN: e.CRN, Other: e.Other, rule: &r}
}

// claimedCRNs lists the CRNs events link to a journey.
func claimedCRNs(events []aggregates.Event) []string {
	var out []string
	for _, ev := range events {
		switch e := ev.(type) {
		case aggregates.CRNLinked:
			out = append(out, e.CRN)
		case aggregates.FactCorrected:
			if e.Field == aggregates.FieldCRN {
				out = append(out, e.Value)
			}
		}
	}
	return out
}

// claimCRN records that crn belongs to noms, or answers *CRNInUseError naming
// the journey that already holds it. meta is the command's envelope: the claim
// says who made it and when, as every event does.
func (s *Service) claimCRN(ctx context.Context, crn, noms string, meta eventlog.Metadata) error {
	client, err := s.client()
	if err != nil {
		return err
	}
	stream := CRNStream(crn)
	for attempt := 0; attempt < 2; attempt++ {
		recs, err := eventlog.ReadStream(ctx, client, stream)
		if err != nil {
			return fmt.Errorf("journeys: read CRN index %s: %w", stream, err)
		}
		if len(recs) > 0 {
			var c crnClaim
			if err := json.Unmarshal(recs[0].Data, &c); err != nil {
				return fmt.Errorf("journeys: CRN index %s: %w", stream, err)
			}
			if c.NOMS == noms {
				return nil
			}
			return newCRNInUse(crn, c.NOMS)
		}
		data, err := json.Marshal(crnClaim{CRN: crn, NOMS: noms})
		if err != nil {
			return fmt.Errorf("journeys: CRN claim: %w", err)
		}
		m := meta
		m.SchemaVersion = 1
		_, err = eventlog.Append(ctx, client, stream, eventlog.Head{}, m.IdempotencyKey+":crn", []eventlog.Proposed{{Type: TypeCRNClaimed, Data: data, Metadata: m}})
		if err == nil {
			return nil
		}
		if !errors.Is(err, eventlog.ErrWrongExpectedRevision) {
			return fmt.Errorf("journeys: claim %s: %w", crn, err)
		}
		// Another instance claimed it first: read who.
	}
	return fmt.Errorf("journeys: claim %s: %w", crn, ErrConflict)
}
