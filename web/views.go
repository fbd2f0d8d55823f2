package web

import (
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/ingest"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/web/export"
)

// The API's answers are these types, not the read models' own: the JSON
// contract (camelCase names, documented in openapi.json) stays put while the
// read models change inside.

type journeyView struct {
	NOMS     string             `json:"noms"`
	Revision int64              `json:"revision"`
	Position uint64             `json:"position"`
	Journey  aggregates.Journey `json:"journey"`
}

type historyView struct {
	Item         string    `json:"item"`
	Position     uint64    `json:"position"`
	Revision     uint64    `json:"revision"`
	EventID      string    `json:"eventId"`
	EventType    string    `json:"eventType"`
	UserID       string    `json:"userId"`
	Role         string    `json:"role,omitempty"`
	Organisation string    `json:"organisation,omitempty"`
	Source       string    `json:"source"`
	OccurredAt   time.Time `json:"occurredAt,omitzero"`
	RecordedAt   time.Time `json:"recordedAt,omitzero"`
	Change       string    `json:"change"`
}

func historyOf(hs []projections.HistoryEntry) []historyView {
	out := make([]historyView, 0, len(hs))
	for _, h := range hs {
		out = append(out, historyView{Item: h.Item, Position: h.Position, Revision: h.Revision, EventID: h.EventID.String(),
			EventType: h.EventType, UserID: h.UserID, Role: h.Role, Organisation: h.Organisation, Source: string(h.Source),
			OccurredAt: h.OccurredAt, RecordedAt: h.RecordedAt, Change: h.Change})
	}
	return out
}

type deadlineView struct {
	Due     time.Time `json:"due,omitzero"`
	Met     bool      `json:"met"`
	MetAt   time.Time `json:"metAt,omitzero"`
	Overdue bool      `json:"overdue"`
}

func deadlineOf(d projections.DeadlineView) deadlineView {
	return deadlineView{Due: d.Due, Met: d.Met, MetAt: d.MetAt, Overdue: d.Overdue}
}

type deadlinesView struct {
	Screening             deadlineView    `json:"screening"`
	Plan                  deadlineView    `json:"plan"`
	Handover              deadlineView    `json:"handover"`
	SupervisionEnds       deadlineView    `json:"supervisionEnds"`
	ReleaseDate           aggregates.Date `json:"releaseDate,omitzero"`
	PreReleaseWindowOpens time.Time       `json:"preReleaseWindowOpens,omitzero"`
	InPreReleaseWindow    bool            `json:"inPreReleaseWindow"`
}

type actionView struct {
	aggregates.Action
	Overdue bool          `json:"overdue"`
	History []historyView `json:"history"`
}

type pathwayView struct {
	Pathway      string        `json:"pathway"`
	Status       string        `json:"status"`
	Reason       string        `json:"reason,omitempty"`
	Need         string        `json:"need,omitempty"`
	IdentifiedAt time.Time     `json:"identifiedAt,omitzero"`
	ChangedAt    time.Time     `json:"changedAt,omitzero"`
	Actions      []actionView  `json:"actions"`
	History      []historyView `json:"history"`
}

type planView struct {
	NOMS         string                  `json:"noms"`
	Revision     uint64                  `json:"revision"`
	Position     uint64                  `json:"position"`
	Custody      string                  `json:"custody"`
	Prison       string                  `json:"prison,omitempty"`
	Responsible  string                  `json:"responsible,omitempty"`
	Closed       bool                    `json:"closed"`
	Plan         aggregates.Plan         `json:"plan"`
	ReceivedAt   time.Time               `json:"receivedAt,omitzero"`
	ScreenedAt   time.Time               `json:"screenedAt,omitzero"`
	ReleaseDates aggregates.ReleaseDates `json:"releaseDates"`
	ReleasedAt   time.Time               `json:"releasedAt,omitzero"`
	ClosedAt     time.Time               `json:"closedAt,omitzero"`
	Deadlines    deadlinesView           `json:"deadlines"`
	Overdue      []string                `json:"overdue"`
	// Attention: what the case needs, as on the caseload; ShouldTake the
	// organisation a rule says should take it.
	Attention  []string      `json:"attention"`
	ShouldTake string        `json:"shouldTake,omitempty"`
	Pathways   []pathwayView `json:"pathways"`
	History    []historyView `json:"history"`
}

func planOf(v projections.PlanView) planView {
	out := planView{NOMS: v.NOMS, Revision: v.Revision, Position: v.Position, Custody: string(v.Custody), Prison: v.Prison,
		Responsible: string(v.Responsible), Closed: v.Closed, Plan: v.Plan, ReceivedAt: v.ReceivedAt, ScreenedAt: v.ScreenedAt,
		ReleaseDates: v.ReleaseDates, ReleasedAt: v.ReleasedAt, ClosedAt: v.ClosedAt,
		Deadlines: deadlinesView{Screening: deadlineOf(v.Deadlines.Screening), Plan: deadlineOf(v.Deadlines.Plan),
			Handover: deadlineOf(v.Deadlines.Handover), SupervisionEnds: deadlineOf(v.Deadlines.SupervisionEnds),
			ReleaseDate: v.Deadlines.ReleaseDate, PreReleaseWindowOpens: v.Deadlines.PreReleaseWindowOpens,
			InPreReleaseWindow: v.Deadlines.InPreReleaseWindow},
		Overdue: nonNil(v.Overdue), Attention: nonNil(v.Attention), ShouldTake: string(v.Needs.HandoverTo), Pathways: make([]pathwayView, 0, len(v.Pathways)), History: historyOf(v.History)}
	for _, p := range v.Pathways {
		pv := pathwayView{Pathway: string(p.Pathway), Status: string(p.Status), Reason: p.Reason, Need: p.Need,
			IdentifiedAt: p.IdentifiedAt, ChangedAt: p.ChangedAt, Actions: make([]actionView, 0, len(p.Actions)), History: historyOf(p.History)}
		if pv.Status == "" {
			pv.Status = string(aggregates.StatusNotStarted)
		}
		for _, a := range p.Actions {
			pv.Actions = append(pv.Actions, actionView{Action: a.Action, Overdue: a.Overdue, History: historyOf(a.History)})
		}
		out.Pathways = append(out.Pathways, pv)
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type openHandoverView struct {
	From string    `json:"from"`
	To   string    `json:"to"`
	Due  time.Time `json:"due"`
}

type caseView struct {
	NOMS           string            `json:"noms"`
	CRN            string            `json:"crn,omitempty"`
	Prison         string            `json:"prison,omitempty"`
	Responsible    string            `json:"responsible,omitempty"`
	Relations      []string          `json:"relations"`
	Stage          string            `json:"stage"`
	ReleaseDate    aggregates.Date   `json:"releaseDate,omitzero"`
	ReleasedAt     time.Time         `json:"releasedAt,omitzero"`
	RoSH           string            `json:"rosh,omitempty"`
	MAPPA          int               `json:"mappa"`
	Attention      []string          `json:"attention"`
	OverdueActions int               `json:"overdueActions"`
	NextDue        time.Time         `json:"nextDue,omitzero"`
	Handover       *openHandoverView `json:"handover,omitempty"`
	// ShouldTake is the organisation a rule says should take the case.
	ShouldTake string `json:"shouldTake,omitempty"`
}

// caseloadView is one page of a caseload; Next and Prev are the links to the pages
// after and before it, with the same filters and order.
type caseloadView struct {
	Org   string     `json:"org"`
	Cases []caseView `json:"cases"`
	Next  string     `json:"next,omitempty"`
	Prev  string     `json:"prev,omitempty"`
}

func relationNames(r projections.Relation) []string {
	out := []string{}
	for _, x := range []struct {
		rel  projections.Relation
		name string
	}{{projections.RelResponsible, "RESPONSIBLE"}, {projections.RelHandingOver, "HANDING_OVER"},
		{projections.RelReceiving, "RECEIVING"}, {projections.RelHolding, "HOLDING"},
		{projections.RelShouldTake, "SHOULD_TAKE"}} {
		if r.Has(x.rel) {
			out = append(out, x.name)
		}
	}
	return out
}

func caseloadOf(org string, rows []projections.CaseRow) caseloadView {
	out := caseloadView{Org: org, Cases: make([]caseView, 0, len(rows))}
	for _, c := range rows {
		cv := caseView{NOMS: c.NOMS, CRN: c.CRN, Prison: c.Prison, Responsible: string(c.Responsible),
			Relations: relationNames(c.Relation), Stage: string(c.Stage), ReleaseDate: c.ReleaseDate, ReleasedAt: c.ReleasedAt,
			RoSH: string(c.RoSH), MAPPA: c.MAPPA, Attention: nonNil(c.Attention.Reasons()), OverdueActions: c.OverdueActions,
			NextDue: c.NextDue, ShouldTake: string(c.ShouldTake)}
		if c.Handover != nil {
			cv.Handover = &openHandoverView{From: string(c.Handover.From), To: string(c.Handover.To), Due: c.Handover.Due}
		}
		out.Cases = append(out.Cases, cv)
	}
	return out
}

type handoverView struct {
	NOMS         string    `json:"noms"`
	Seq          int       `json:"seq"`
	Direction    string    `json:"direction"`
	Counterpart  string    `json:"counterpart"`
	From         string    `json:"from"`
	To           string    `json:"to"`
	Reason       string    `json:"reason"`
	Status       string    `json:"status"`
	RequestedAt  time.Time `json:"requestedAt"`
	Due          time.Time `json:"due,omitzero"`
	DecidedAt    time.Time `json:"decidedAt,omitzero"`
	RejectReason string    `json:"rejectReason,omitempty"`
	Model        string    `json:"model,omitempty"`
	Overdue      bool      `json:"overdue"`
	Late         bool      `json:"late"`
	AgeSeconds   int64     `json:"ageSeconds"`
}

// handoverQueueView is one page of a handover queue: its rows, receiving first, split
// by side; Next and Prev are the links to the pages after and before it.
type handoverQueueView struct {
	Org       string         `json:"org"`
	Sending   []handoverView `json:"sending"`
	Receiving []handoverView `json:"receiving"`
	Next      string         `json:"next,omitempty"`
	Prev      string         `json:"prev,omitempty"`
}

func handoverRowsOf(rows []projections.HandoverRow) []handoverView {
	out := make([]handoverView, 0, len(rows))
	for _, h := range rows {
		dir := "SENDING"
		if h.Direction == projections.Receiving {
			dir = "RECEIVING"
		}
		out = append(out, handoverView{NOMS: h.NOMS, Seq: h.Seq, Direction: dir, Counterpart: string(h.Counterpart),
			From: string(h.From), To: string(h.To), Reason: h.Reason, Status: string(h.Status), RequestedAt: h.RequestedAt,
			Due: h.Due, DecidedAt: h.DecidedAt, RejectReason: h.RejectReason, Model: string(h.Model), Overdue: h.Overdue,
			Late: h.Late, AgeSeconds: int64(h.Age / time.Second)})
	}
	return out
}

func handoverPageOf(org string, rows []projections.HandoverRow) handoverQueueView {
	var sending, receiving []projections.HandoverRow
	for _, h := range rows {
		if h.Direction == projections.Sending {
			sending = append(sending, h)
		} else {
			receiving = append(receiving, h)
		}
	}
	return handoverQueueView{Org: org, Sending: handoverRowsOf(sending), Receiving: handoverRowsOf(receiving)}
}

// auditView is an audit trail entry; the history downloads (package
// export) write the same type, so the two never drift apart.
type auditView = export.Entry

type trailView struct {
	NOMS string `json:"noms"`
	// AsAt and AsAtPosition echo the query; Journey is the state as the
	// ledger knew it then (absent when it knew nothing).
	AsAt         time.Time           `json:"asAt,omitzero"`
	AsAtPosition uint64              `json:"asAtPosition,omitempty"`
	Journey      *aggregates.Journey `json:"journey,omitempty"`
	Entries      []auditView         `json:"entries"`
}

type breakView struct {
	Revision uint64 `json:"revision"`
	EventID  string `json:"eventId"`
	Reason   string `json:"reason"`
	Expected string `json:"expected"`
	Found    string `json:"found"`
	Position uint64 `json:"position,omitempty"`
}

type mismatchView struct {
	Stream   string `json:"stream"`
	Revision uint64 `json:"revision"`
	Position uint64 `json:"position"`
	Reason   string `json:"reason"`
	Expected string `json:"expected"`
	Found    string `json:"found"`
}

type streamVerificationView struct {
	OK         bool           `json:"ok"`
	Stream     string         `json:"stream"`
	Checked    int            `json:"checked"`
	Head       string         `json:"head,omitempty"`
	Break      *breakView     `json:"break,omitempty"`
	Mismatches []mismatchView `json:"mismatches"`
}

func mismatchesOf(ms []projections.AuditMismatch) []mismatchView {
	out := make([]mismatchView, 0, len(ms))
	for _, m := range ms {
		out = append(out, mismatchView{Stream: m.Stream, Revision: m.Revision, Position: m.Position, Reason: m.Reason,
			Expected: m.Expected, Found: m.Found})
	}
	return out
}

func breakOf(b *eventlog.Break, pos uint64) *breakView {
	if b == nil {
		return nil
	}
	return &breakView{Revision: b.Revision, EventID: b.EventID.String(), Reason: b.Reason, Expected: b.Expected, Found: b.Found, Position: pos}
}

func streamVerificationOf(v projections.StreamVerification) streamVerificationView {
	return streamVerificationView{OK: v.OK(), Stream: v.Stream, Checked: v.Checked, Head: v.Head,
		Break: breakOf(v.Break, v.BreakPosition), Mismatches: mismatchesOf(v.Mismatches)}
}

type storeVerificationView struct {
	OK         bool                     `json:"ok"`
	Streams    int                      `json:"streams"`
	Events     int                      `json:"events"`
	Unchained  int                      `json:"unchained"`
	Breaks     []streamVerificationView `json:"breaks"`
	Mismatches []mismatchView           `json:"mismatches"`
}

func storeVerificationOf(v projections.StoreVerification) storeVerificationView {
	out := storeVerificationView{OK: v.OK(), Streams: v.Streams, Events: v.Events, Unchained: v.Unchained,
		Breaks: make([]streamVerificationView, 0, len(v.Breaks)), Mismatches: mismatchesOf(v.Mismatches)}
	for _, b := range v.Breaks {
		out.Breaks = append(out.Breaks, streamVerificationOf(b))
	}
	return out
}

type outcomeView struct {
	Provider           string          `json:"provider"`
	Cohort             string          `json:"cohort"`
	Start              aggregates.Date `json:"start"`
	End                aggregates.Date `json:"end"`
	Size               int             `json:"size"`
	Reoffenders        int             `json:"reoffenders"`
	Reoffences         int             `json:"reoffences"`
	ExcludedReoffences int             `json:"excludedReoffences"`
	BinaryRate         float64         `json:"binaryRate"`
	FrequencyRate      float64         `json:"frequencyRate"`
	Provisional        bool            `json:"provisional"`
	FinalFrom          time.Time       `json:"finalFrom"`
}

// outcomesView is one page of cohorts; Next and Prev link the pages after and before.
type outcomesView struct {
	Cohorts []outcomeView `json:"cohorts"`
	Next    string        `json:"next,omitempty"`
	Prev    string        `json:"prev,omitempty"`
}

func outcomeOf(o projections.CohortOutcome) outcomeView {
	return outcomeView{Provider: string(o.Provider), Cohort: o.Cohort, Start: o.Start, End: o.End, Size: o.Size,
		Reoffenders: o.Reoffenders, Reoffences: o.Reoffences, ExcludedReoffences: o.ExcludedReoffences,
		BinaryRate: o.BinaryRate, FrequencyRate: o.FrequencyRate, Provisional: o.Provisional, FinalFrom: o.FinalFrom}
}

type accessLogView struct {
	From    time.Time          `json:"from"`
	To      time.Time          `json:"to"`
	Entries []auth.AccessEntry `json:"entries"`
}

type feedCommandView struct {
	Command        string `json:"command"`
	IdempotencyKey string `json:"idempotencyKey"`
	Events         int    `json:"events"`
	Duplicate      bool   `json:"duplicate"`
	Revision       int64  `json:"revision"`
	Position       uint64 `json:"position"`
}

type deadLetterRefView struct {
	Stream      string `json:"stream"`
	EventID     string `json:"eventId"`
	Revision    uint64 `json:"revision"`
	AlreadyOpen bool   `json:"alreadyOpen"`
	Attempts    int    `json:"attempts"`
}

type feedOutcomeView struct {
	Disposition    string             `json:"disposition"`
	EventType      string             `json:"eventType,omitempty"`
	NOMS           string             `json:"noms,omitempty"`
	MessageID      string             `json:"messageId,omitempty"`
	IdempotencyKey string             `json:"idempotencyKey,omitempty"`
	OccurredAt     time.Time          `json:"occurredAt,omitzero"`
	Reason         string             `json:"reason,omitempty"`
	Error          string             `json:"error,omitempty"`
	Commands       []feedCommandView  `json:"commands"`
	DeadLetter     *deadLetterRefView `json:"deadLetter,omitempty"`
	// AlreadyApplied: applied, and nothing new recorded (a redelivery).
	AlreadyApplied bool `json:"alreadyApplied"`
}

func feedOutcomeOf(o ingest.Outcome) feedOutcomeView {
	out := feedOutcomeView{Disposition: o.Disposition.String(), EventType: o.EventType, NOMS: o.NOMS, MessageID: o.MessageID,
		IdempotencyKey: o.IdempotencyKey, OccurredAt: o.OccurredAt, Reason: o.Reason, Commands: make([]feedCommandView, 0, len(o.Commands)),
		AlreadyApplied: o.AlreadyApplied}
	if o.Err != nil {
		out.Error = o.Err.Error()
	}
	for _, c := range o.Commands {
		out.Commands = append(out.Commands, feedCommandView{Command: c.Command, IdempotencyKey: c.IdempotencyKey, Events: c.Events,
			Duplicate: c.Duplicate, Revision: c.Revision, Position: c.Position.Commit})
	}
	if d := o.DeadLetter; d != nil {
		out.DeadLetter = &deadLetterRefView{Stream: d.Stream, EventID: d.EventID.String(), Revision: d.Revision, AlreadyOpen: d.AlreadyOpen,
			Attempts: d.Attempts}
	}
	return out
}

type tokenView struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Role         string    `json:"role"`
	Org          string    `json:"org,omitempty"`
	IssuedAt     time.Time `json:"issuedAt"`
	IssuedBy     string    `json:"issuedBy"`
	ExpiresAt    time.Time `json:"expiresAt,omitzero"`
	RevokedAt    time.Time `json:"revokedAt,omitzero"`
	RevokedBy    string    `json:"revokedBy,omitempty"`
	RevokeReason string    `json:"revokeReason,omitempty"`
}

func tokenOf(i auth.TokenInfo) tokenView {
	return tokenView{ID: i.ID, Name: i.Name, Role: string(i.Role), Org: i.Org, IssuedAt: i.IssuedAt, IssuedBy: i.IssuedBy,
		ExpiresAt: i.ExpiresAt, RevokedAt: i.RevokedAt, RevokedBy: i.RevokedBy, RevokeReason: i.RevokeReason}
}
