package auth

import (
	"fmt"

	"github.com/gateledger/gateledger/aggregates"
)

// Authorisation rules. Every function here is pure: it looks only at the
// principal and the journey as folded from its events, so the HTTP API, the
// WebSocket feed and every pushed event can ask the same question and get
// the same answer. A principal that fails Validate may do nothing.
//
// Reads (CanReadJourney):
//
//	prison     the person is in custody in its prison now (temporarily away
//	           at court, on temporary absence or on a transfer not yet
//	           received included), or was moved from it to a secure
//	           hospital or removal centre, or went unlawfully at large from
//	           it; or it is the last prison (released, died, closed) and
//	           either still holds responsibility (no handover accepted yet)
//	           or is the sending side of the open handover; or it is the
//	           receiving side of an open handover.
//	provider   aggregates.Journey.CanSee: it is responsible, or the sending
//	           or receiving side of the open handover.
//	inspector  every journey.
//	feed       none: the feed only ingests, and the ingest path reads the
//	           journey on the server's own authority to decide its commands.
//	admin      none: operators manage tokens and the dead-letter queue
//	           (CanReadDeadLetters, CanWorkDeadLetters), not cases. An
//	           operator who needs to look at a case is given an inspector
//	           token, so the access is recorded as an inspection.
//
// A prison loses sight of a released person once the handover is accepted
// (or the person is received elsewhere); a provider loses sight once a
// handover away from it is accepted, and gains it as soon as one to it is
// requested, so that it can decide. A rejected handover closes the
// receiving side's view.
//
// Commands (CanCommand), for principals that may read the journey unless
// said otherwise:
//
//	prison     custody commands for a person it holds now (RecordMovement of
//	           its own prison, ReleasePrisoner and EndCustody from it, CompleteScreening,
//	           SetReleaseDates, NoteSentenceRecalculation, SentencePrisoner); ReceivePrisoner
//	           into its own prison of a new or released person (no read
//	           needed: the reception is what gives it sight), or of one it
//	           already holds (a duplicate the aggregate absorbs);
//	           RecordMovement TRANSFER_IN into its own prison of a person in
//	           custody elsewhere who has departed on transfer;
//	           RequestHandover and ChangeReleaseArea while it is
//	           responsible (holding the person, or the last prison of a
//	           released person whose case no provider has taken yet); CompleteAction of an action
//	           it owns for a person it holds; AcceptHandover/RejectHandover
//	           when it is the receiving side; CorrectFact for a person it
//	           holds.
//	provider   no custody command (receptions, movements, releases,
//	           screening, release dates, recalculations come from prisons
//	           and the feed). AcceptHandover/RejectHandover only as the
//	           receiving side of the open handover. RequestHandover,
//	           RecallPrisoner and CloseJourney only when responsible. All
//	           other case work (plan, needs, pathway status, actions,
//	           met at the gate, supervision contacts, risk, MAPPA, breach,
//	           proven reoffence, CRN link, release area, corrections) when
//	           responsible or on either side of the open handover.
//	inspector  never.
//	feed       never: custody facts from HMPPS go through the ingest path
//	           (CanIngest), not the command API.
//	admin      never.

// CanReadJourney reports whether p may read the journey j.
func CanReadJourney(p Principal, j aggregates.Journey) bool {
	if p.Validate() != nil {
		return false
	}
	switch p.Role {
	case RoleInspector:
		return true
	case RolePrison:
		return prisonCanRead(p.Org, j)
	case RoleProvider:
		return j.CanSee(p.Org)
	}
	return false
}

// holds reports whether prison org holds the person now: in its prison, or
// moved from it to a secure hospital or removal centre, or gone unlawfully at
// large from it. The prison stays accountable in all three until the person
// is received elsewhere or released (aggregates/custodyend.go), so it keeps
// sight of the case and the commands that route it on.
func holds(org string, j aggregates.Journey) bool {
	if j.Closed || j.Prison != org {
		return false
	}
	return j.Custody == aggregates.InCustody || j.Custody == aggregates.DetainedElsewhere || j.Custody == aggregates.UnlawfullyAtLarge
}

func prisonCanRead(org string, j aggregates.Journey) bool {
	if org == "" || j.Custody == aggregates.NotReceived {
		return false
	}
	if holds(org, j) {
		return true
	}
	h := j.OpenHandover()
	if h != nil && h.To == aggregates.Org(org) {
		return true
	}
	// The last prison, once the person has left it (released, died, or
	// closed), while it is still responsible or is handing the case over.
	if j.Prison == org && (j.Custody != aggregates.InCustody || j.Closed) {
		if j.Responsible() == aggregates.Org(org) {
			return true
		}
		return h != nil && h.From == aggregates.Org(org)
	}
	return false
}

// CanCommand returns nil if p may send cmd to the journey j, and otherwise an
// error matching ErrForbidden that says why (for the server's log; use
// AuthorizeCommand for what to answer).
func CanCommand(p Principal, j aggregates.Journey, cmd aggregates.Command) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrForbidden, err)
	}
	if cmd == nil {
		return fmt.Errorf("%w: no command", ErrForbidden)
	}
	var ok bool
	switch p.Role {
	case RolePrison:
		ok = prisonMay(p.Org, j, cmd)
	case RoleProvider:
		ok = providerMay(p.Org, j, cmd)
	default:
		return fmt.Errorf("%w: role %s sends no commands", ErrForbidden, p.Role)
	}
	if !ok {
		return fmt.Errorf("%w: %s may not %s on %s", ErrForbidden, p, cmd.CommandName(), journeyName(j))
	}
	return nil
}

func journeyName(j aggregates.Journey) string {
	if j.NOMS == "" {
		return "a new journey"
	}
	return j.NOMS
}

func prisonMay(org string, j aggregates.Journey, cmd aggregates.Command) bool {
	held := holds(org, j)
	open := j.OpenHandover()
	switch c := cmd.(type) {
	case aggregates.ReceivePrisoner:
		return c.Prison == org && (j.Custody != aggregates.InCustody || j.Closed || j.Prison == org)
	case aggregates.RecordMovement:
		if c.Prison != org {
			return false
		}
		if c.Kind == aggregates.MovementTransferIn {
			return j.Custody == aggregates.InCustody && !j.Closed && (j.Prison == org || j.Away == aggregates.AwayTransfer)
		}
		return held
	case aggregates.ReleasePrisoner:
		return held && c.Prison == org
	case aggregates.EndCustody:
		return held && (c.Prison == org || c.Prison == "")
	case aggregates.CompleteScreening, aggregates.SetReleaseDates, aggregates.NoteSentenceRecalculation, aggregates.CorrectFact,
		aggregates.SentencePrisoner:
		return held
	case aggregates.RequestHandover, aggregates.ChangeReleaseArea:
		// The responsible prison routes the case on, also after the person
		// left it: a prison that still holds a released person's case (no
		// release area yet, or a handover rejected) must be able to record
		// the area and ask the provider, or the case is stranded.
		return !j.Closed && j.Responsible() == aggregates.Org(org) && j.Prison == org
	case aggregates.CompleteAction:
		return held && j.Actions[c.ActionID].Owner == aggregates.Org(org)
	case aggregates.AcceptHandover, aggregates.RejectHandover:
		return open != nil && open.To == aggregates.Org(org)
	}
	return false
}

func providerMay(org string, j aggregates.Journey, cmd aggregates.Command) bool {
	o := aggregates.Org(org)
	if !o.IsProvider() || !j.CanSee(org) {
		return false
	}
	responsible := j.Responsible() == o
	switch cmd.(type) {
	case aggregates.ReceivePrisoner, aggregates.RecordMovement, aggregates.ReleasePrisoner, aggregates.EndCustody,
		aggregates.CompleteScreening, aggregates.SetReleaseDates, aggregates.NoteSentenceRecalculation, aggregates.SentencePrisoner:
		return false
	case aggregates.AcceptHandover, aggregates.RejectHandover:
		h := j.OpenHandover()
		return h != nil && h.To == o
	case aggregates.RequestHandover, aggregates.RecallPrisoner, aggregates.CloseJourney:
		return responsible
	case aggregates.DraftPlan, aggregates.RevisePlan, aggregates.IdentifyNeed, aggregates.ChangePathwayStatus,
		aggregates.AgreeAction, aggregates.AssignAction, aggregates.CompleteAction,
		aggregates.RecordMetAtGate, aggregates.RecordSupervisionContact, aggregates.AssessRisk,
		aggregates.SetMAPPALevel, aggregates.RecordBreach, aggregates.RecordProvenReoffence,
		aggregates.LinkCRN, aggregates.ChangeReleaseArea, aggregates.CorrectFact:
		return true // CanSee above: responsible or either side of the open handover
	}
	return false
}

// CanIngest reports whether p may post HMPPS domain events to the feed
// endpoint: the feed principal only.
func CanIngest(p Principal) bool { return p.Validate() == nil && p.Role == RoleFeed }

// CanManageTokens reports whether p may create, list and revoke built-in
// tokens: admins only.
func CanManageTokens(p Principal) bool { return p.Validate() == nil && p.Role == RoleAdmin }

// CanReadDeadLetters reports whether p may read the dead-letter queue: the
// HMPPS feed messages the ledger could not apply, each with the prison
// number and the raw message. Admins, who work the queue, and inspectors,
// who read everything; nobody else, since the messages name people of every
// prison and provider.
func CanReadDeadLetters(p Principal) bool {
	return p.Validate() == nil && (p.Role == RoleAdmin || p.Role == RoleInspector)
}

// CanWorkDeadLetters reports whether p may redrive and discard dead letters:
// admins only (inspectors write nothing).
func CanWorkDeadLetters(p Principal) bool { return p.Validate() == nil && p.Role == RoleAdmin }

// CanReadOrganisation reports whether p may read org's lists (its caseload,
// its handovers): inspectors any organisation's, prisons and providers their
// own; nobody else.
func CanReadOrganisation(p Principal, org string) bool {
	if p.Validate() != nil || org == "" {
		return false
	}
	return p.Role == RoleInspector || ((p.Role == RolePrison || p.Role == RoleProvider) && p.Org == org)
}

// CanReadAcrossOrganisations reports whether p may make the reads that span
// every organisation: verifying every journey, downloading a set of
// histories, the seals and their proofs, finding any person. Inspectors
// only: they read everything and write nothing.
func CanReadAcrossOrganisations(p Principal) bool {
	return p.Validate() == nil && p.Role == RoleInspector
}

// CanReadOutcomes reports whether p may read the outcomes of cohorts:
// inspectors every provider's, providers their own (the outcomes read picks
// the provider).
func CanReadOutcomes(p Principal) bool {
	return p.Validate() == nil && (p.Role == RoleInspector || p.Role == RoleProvider)
}

// CanReadAccessLog reports whether p may read the access log: inspectors
// only.
func CanReadAccessLog(p Principal) bool { return p.Validate() == nil && p.Role == RoleInspector }

// Exists reports whether a journey has any events: a folded journey with
// none is what loading a person who was never recorded gives.
func Exists(j aggregates.Journey) bool { return j.Version > 0 }

// AuthorizeRead is what the HTTP layer answers a read of j with: nil when p
// may read it, and ErrNotFound both when p may not and when the journey does
// not exist, so that the two cannot be told apart.
func AuthorizeRead(p Principal, j aggregates.Journey) error {
	if !Exists(j) || !CanReadJourney(p, j) {
		return ErrNotFound
	}
	return nil
}

// AuthorizeCommand is what the HTTP layer answers a command on j with, before
// deciding it: nil when p may send it; an error matching ErrForbidden when p's
// role sends no commands (inspector, feed, admin: this says nothing about the
// case) or when p may read the journey but not do this; ErrNotFound otherwise,
// whether or not the journey exists.
//
// A reception into the caller's own prison is allowed on a journey it cannot
// read (a new or released person): that the reception then succeeds, or
// fails because the person is held elsewhere (ErrNotFound here), is the
// unavoidable consequence of recording receptions at all.
func AuthorizeCommand(p Principal, j aggregates.Journey, cmd aggregates.Command) error {
	err := CanCommand(p, j, cmd)
	if err == nil {
		return nil
	}
	if p.Validate() != nil || (p.Role != RolePrison && p.Role != RoleProvider) {
		return err
	}
	if !Exists(j) || !CanReadJourney(p, j) {
		return ErrNotFound
	}
	return err
}
