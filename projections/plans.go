package projections

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// PlansName names the resettlement plan projection and its bucket.
const PlansName = "plans"

var (
	// planPeople holds each person's state row and, right after it, the person's
	// history rows, so that a batch dirties one leaf page per person, not two.
	planPeople = []byte("people")
)

const planHistoryVersion = 1

// PlansProjection keeps each person's resettlement plan: pathways, needs, actions, the plan
// itself, the inputs of the derived deadlines, and the history of every item.
//
// Storage, in the sub-bucket "people", each person's rows together:
//   - key NOMS ‖ 0x00, value the binary storedPlan (appendTo), the plan-relevant part
//     of the journey after the person's last event (one row per person);
//   - key NOMS ‖ 0x00 ‖ U64(revision >> planHistoryChunkShift), value the history
//     entries of those revisions in revision order, each preceded by its length as a
//     uvarint: the item, U64(position) and the binary history row (who, organisation,
//     when, what changed). Items are "custody", "screening", "plan", "releaseDates",
//     "pathway/<PATHWAY>" and "action/<id>". A chunk's bytes do not depend on how the
//     events were batched.
//
// Deadlines and overdue flags are decided at query time from the stored dates.
type PlansProjection struct {
	// policy decides what a case needs (aggregates.Journey.Needs).
	policy aggregates.Policy
	arena  readmodel.Arena
	// pending holds the latest state of each person changed in the current batch, so
	// that a person with several events in a batch is written once (Batcher).
	pending map[string]*pendingPlan
	entry   []byte // scratch for encoding one history entry
}

type pendingPlan struct {
	j        *aggregates.Journey
	pos, rev uint64
	// pathways and actions are the person's plan items after the last event applied,
	// kept by the projection itself (the runner folds the journey in place, so it only
	// ever shows the latest state): planChange reads the old values from them. They
	// are read from the stored row at the person's first plan event of the batch
	// (loaded), since only plan events change them.
	loaded   bool
	pathways map[aggregates.Pathway]aggregates.PathwayState
	actions  map[string]aggregates.Action
	// hist holds the batch's history entries not yet written, all of chunk histChunk.
	histChunk uint64
	hist      []byte
}

// NewPlans returns the resettlement plan projection.
func NewPlans(policy aggregates.Policy) *PlansProjection {
	return &PlansProjection{policy: policy, pending: map[string]*pendingPlan{}}
}

// planStateVersion is the first byte of every state row; planHistoryVersion of every
// history row. A change of either layout bumps it together with Version.
const planStateVersion = 3

// Name implements Projection.
func (*PlansProjection) Name() string { return PlansName }

// Version implements Projection: 3 since history is kept in chunks.
// Version 4: state rows carry the sentence facts the deadlines are derived from
// (reception and release kinds, the sentence) and what the case needs.
func (*PlansProjection) Version() int { return 4 }

// planHistoryChunkShift sets how many consecutive revisions of a person one stored
// history value covers (1 << planHistoryChunkShift): one read and one write per person
// and batch rather than an insert per plan event, as for the audit rows.
const planHistoryChunkShift = 4

// Apply implements Projection: it writes the history row of a plan item now and keeps
// the person's state for Commit.
func (p *PlansProjection) Apply(b *bolt.Bucket, ev *readmodel.Event) error {
	if !ev.IsJourney() {
		return nil
	}
	if ev.DecodeErr != nil {
		return ev.DecodeErr
	}
	if ev.After == nil {
		return nil
	}
	pp := p.pending[ev.NOMS]
	if pp == nil {
		pp = &pendingPlan{}
		p.pending[ev.NOMS] = pp
	}
	pp.j, pp.pos, pp.rev = ev.After, ev.Position, ev.Revision
	if !isPlanEvent(ev.Domain) {
		return nil
	}
	if !pp.loaded && changesItems(ev.Domain) {
		if err := pp.load(b, ev.NOMS); err != nil {
			return err
		}
	}
	item, change, ok := planChange(pp.pathways, pp.actions, ev.Domain)
	pp.track(ev.Domain, ev.After)
	if !ok {
		return nil
	}
	chunk := ev.Revision >> planHistoryChunkShift
	if len(pp.hist) > 0 && pp.histChunk != chunk {
		if err := p.writeHistory(b, ev.NOMS, pp); err != nil {
			return err
		}
	}
	pp.histChunk = chunk
	var w readmodel.Writer = p.entry[:0]
	w.Str(item)
	w.U64(ev.Position)
	w = appendHistory(w, ev, change)
	p.entry = w
	pp.hist = binary.AppendUvarint(pp.hist, uint64(len(w)))
	pp.hist = append(pp.hist, w...)
	return nil
}

// writeHistory appends pp's pending history entries to their chunk in the state.
func (p *PlansProjection) writeHistory(b *bolt.Bucket, noms string, pp *pendingPlan) error {
	if len(pp.hist) == 0 {
		return nil
	}
	st, err := readmodel.SubBucket(b, planPeople)
	if err != nil {
		return err
	}
	st.FillPercent = readmodel.AppendFill
	if err := readmodel.AppendChunk(st, &p.arena, noms, pp.histChunk, pp.hist); err != nil {
		return fmt.Errorf("plan history of %s: %w", noms, err)
	}
	pp.hist = pp.hist[:0]
	return nil
}

// eachHistoryEntry calls fn with every entry of a stored history chunk, in revision
// order.
func eachHistoryEntry(chunk []byte, fn func(item string, pos uint64, row []byte) error) error {
	return readmodel.EachEntry(chunk, func(entry []byte) error {
		r := readmodel.Reader{B: entry}
		item := r.Str()
		pos := r.U64()
		if r.Err != nil {
			return r.Err
		}
		return fn(item, pos, r.B)
	})
}

// isPlanEvent reports whether ev changes a plan item (planChange names one).
func isPlanEvent(ev aggregates.Event) bool {
	switch ev.(type) {
	case aggregates.PrisonerReceived, aggregates.PrisonerReleased, aggregates.LicenceRevoked, aggregates.JourneyClosed,
		aggregates.CustodyScreeningCompleted, aggregates.ResettlementPlanDrafted, aggregates.ResettlementPlanRevised,
		aggregates.ReleaseDatesSet, aggregates.ReleaseDatesChanged, aggregates.PathwayNeedIdentified,
		aggregates.PathwayStatusChanged, aggregates.ActionAgreed, aggregates.ActionAssigned, aggregates.ActionCompleted:
		return true
	}
	return false
}

// changesItems reports whether ev changes a pathway or an action.
func changesItems(ev aggregates.Event) bool {
	switch ev.(type) {
	case aggregates.PathwayNeedIdentified, aggregates.PathwayStatusChanged, aggregates.ActionAgreed,
		aggregates.ActionAssigned, aggregates.ActionCompleted:
		return true
	}
	return false
}

// load reads the person's pathways and actions from the stored state row (none when
// the person has no row yet).
func (pp *pendingPlan) load(b *bolt.Bucket, noms string) error {
	pp.loaded = true
	if st := b.Bucket(planPeople); st != nil {
		if v := st.Get(readmodel.Key(noms)); v != nil {
			sp, err := decodePlanState(v)
			if err != nil {
				return fmt.Errorf("plan of %s: %w", noms, err)
			}
			pp.pathways, pp.actions = sp.Pathways, sp.Actions
		}
	}
	if pp.pathways == nil {
		pp.pathways = map[aggregates.Pathway]aggregates.PathwayState{}
	}
	if pp.actions == nil {
		pp.actions = map[string]aggregates.Action{}
	}
	return nil
}

// track copies the plan item ev changed from the journey after it. Only the plan
// events change pathways and actions, each one item.
func (pp *pendingPlan) track(ev aggregates.Event, after *aggregates.Journey) {
	if !pp.loaded {
		return
	}
	switch e := ev.(type) {
	case aggregates.PathwayNeedIdentified:
		pp.pathways[e.Pathway] = after.Pathway(e.Pathway)
	case aggregates.PathwayStatusChanged:
		pp.pathways[e.Pathway] = after.Pathway(e.Pathway)
	case aggregates.ActionAgreed:
		pp.actions[e.ActionID] = after.Actions[e.ActionID]
	case aggregates.ActionAssigned:
		pp.actions[e.ActionID] = after.Actions[e.ActionID]
	case aggregates.ActionCompleted:
		pp.actions[e.ActionID] = after.Actions[e.ActionID]
	}
}

// Commit implements Batcher.
func (p *PlansProjection) Commit(b *bolt.Bucket) error {
	if len(p.pending) == 0 {
		return nil
	}
	st, err := readmodel.SubBucket(b, planPeople)
	if err != nil {
		return err
	}
	st.FillPercent = readmodel.AppendFill
	nomss := make([]string, 0, len(p.pending))
	for n := range p.pending {
		nomss = append(nomss, n)
	}
	slices.Sort(nomss)
	for _, n := range nomss {
		pp := p.pending[n]
		sp := storedPlanOf(pp.j, pp.pos, pp.rev, p.policy)
		v := p.arena.Take(sp.appendTo(p.arena.Free(256)))
		if err := st.Put(p.arena.Take(append(append(p.arena.Free(len(n)+1), n...), 0)), v); err != nil {
			return fmt.Errorf("plan of %s: %w", n, err)
		}
		if err := p.writeHistory(b, n, pp); err != nil {
			return err
		}
	}
	clear(p.pending)
	return nil
}

// Rollback implements Batcher.
func (p *PlansProjection) Rollback() { clear(p.pending) }

// storedPlan is the part of the journey the plan view needs.
type storedPlan struct {
	NOMS         string                                         `json:"nomsNumber"`
	Position     uint64                                         `json:"position"`
	Revision     uint64                                         `json:"revision"`
	Custody      aggregates.CustodyStatus                       `json:"custody"`
	Prison       string                                         `json:"prison,omitempty"`
	Responsible  aggregates.Org                                 `json:"responsible,omitempty"`
	ReceivedAt   time.Time                                      `json:"receivedAt,omitzero"`
	ScreenedAt   time.Time                                      `json:"screenedAt,omitzero"`
	Plan         aggregates.Plan                                `json:"plan"`
	Pathways     map[aggregates.Pathway]aggregates.PathwayState `json:"pathways,omitempty"`
	Actions      map[string]aggregates.Action                   `json:"actions,omitempty"`
	ReleaseDates aggregates.ReleaseDates                        `json:"releaseDates"`
	ReleasedAt   time.Time                                      `json:"releasedAt,omitzero"`
	Closed       bool                                           `json:"closed,omitempty"`
	ClosedAt     time.Time                                      `json:"closedAt,omitzero"`
	OpenHandover *aggregates.Handover                           `json:"openHandover,omitempty"`
	// The sentence facts Deadlines derives the plan and supervision from.
	ReceptionKind aggregates.ReceptionKind `json:"receptionKind,omitempty"`
	ReleaseKind   aggregates.ReleaseKind   `json:"releaseKind,omitempty"`
	Sentence      aggregates.Sentence      `json:"sentence,omitzero"`
	// Needs is what the case needs (aggregates.Journey.Needs), decided when
	// the row was written: it depends on the facts and the policy, not on now.
	Needs aggregates.Needs `json:"needs,omitzero"`
}

func storedPlanOf(j *aggregates.Journey, pos, rev uint64, policy aggregates.Policy) storedPlan {
	return storedPlan{ReceptionKind: j.ReceptionKind, ReleaseKind: j.ReleaseKind, Sentence: j.Sentence, Needs: j.Needs(policy),
		NOMS: j.NOMS, Position: pos, Revision: rev, Custody: j.Custody, Prison: j.Prison,
		Responsible: j.Responsible(), ReceivedAt: j.ReceivedAt, ScreenedAt: j.ScreenedAt, Plan: j.Plan,
		Pathways: j.Pathways, Actions: j.Actions, ReleaseDates: j.ReleaseDates, ReleasedAt: j.ReleasedAt,
		Closed: j.Closed, ClosedAt: j.ClosedAt, OpenHandover: j.OpenHandover()}
}

// appendTo appends the row of s (layout version planStateVersion): NOMS, position,
// revision, custody, prison, responsible, received and screened times, the plan
// (revision, summary, drafted, revised), the pathways sorted by name (name, status,
// reason, need, identified, changed), the actions sorted by id (id, pathway,
// description, due, owner, agreed, outcome, completed), the five release dates, the
// release time, closed and its time, and the open handover if any (seq, from, to,
// reason, due, requested, status, decided, reject reason).
func (s *storedPlan) appendTo(w readmodel.Writer) readmodel.Writer {
	w.U8(planStateVersion)
	w.Str(s.NOMS)
	w.Uvar(s.Position)
	w.Uvar(s.Revision)
	w.Str(string(s.Custody))
	w.Str(s.Prison)
	w.Str(string(s.Responsible))
	w.XTime(s.ReceivedAt)
	w.XTime(s.ScreenedAt)
	w.Svar(int64(s.Plan.Revision))
	w.Str(s.Plan.Summary)
	w.XTime(s.Plan.DraftedAt)
	w.XTime(s.Plan.RevisedAt)
	w.Uvar(uint64(len(s.Pathways)))
	if len(s.Pathways) > 0 {
		for _, p := range slices.Sorted(maps.Keys(s.Pathways)) {
			ps := s.Pathways[p]
			w.Str(string(p))
			w.Str(string(ps.Status))
			w.Str(ps.Reason)
			w.Str(ps.Need)
			w.XTime(ps.IdentifiedAt)
			w.XTime(ps.ChangedAt)
		}
	}
	w.Uvar(uint64(len(s.Actions)))
	if len(s.Actions) > 0 {
		for _, id := range slices.Sorted(maps.Keys(s.Actions)) {
			a := s.Actions[id]
			w.Str(id)
			w.Str(a.ID)
			w.Str(string(a.Pathway))
			w.Str(a.Description)
			w.XDate(a.Due)
			w.Str(string(a.Owner))
			w.XTime(a.AgreedAt)
			w.Str(a.Outcome)
			w.XTime(a.CompletedAt)
		}
	}
	rd := &s.ReleaseDates
	for _, d := range [...]aggregates.Date{rd.ConfirmedRelease, rd.ActualParole, rd.HDCActual, rd.ConditionalRelease, rd.AutomaticRelease} {
		w.XDate(d)
	}
	w.XTime(s.ReleasedAt)
	w.Bool(s.Closed)
	w.XTime(s.ClosedAt)
	w.Bool(s.OpenHandover != nil)
	if h := s.OpenHandover; h != nil {
		w.Svar(int64(h.Seq))
		w.Str(string(h.From))
		w.Str(string(h.To))
		w.Str(h.Reason)
		w.XTime(h.Due)
		w.XTime(h.RequestedAt)
		w.Str(string(h.Status))
		w.XTime(h.DecidedAt)
		w.Str(h.RejectReason)
	}
	w.Str(string(s.ReceptionKind))
	w.Str(string(s.ReleaseKind))
	se := &s.Sentence
	w.Str(string(se.Type))
	w.Uvar(uint64(se.LengthMonths))
	w.Uvar(uint64(se.LengthDays))
	w.XDate(se.SentenceDate)
	w.XDate(se.OffenceDate)
	w.Bool(se.Under18)
	w.XTime(se.At)
	n := &s.Needs
	w.Str(string(n.HandoverTo))
	w.Bool(n.HandoverRejected)
	w.Bool(n.HandoverOvertaken)
	w.Bool(n.NoReleaseArea)
	return w
}

// decodePlanState reads what appendTo wrote.
func decodePlanState(v []byte) (storedPlan, error) {
	r := readmodel.Reader{B: v}
	if ver := r.U8(); ver != planStateVersion {
		return storedPlan{}, fmt.Errorf("%w: plan state version %d", readmodel.ErrCorruptRow, ver)
	}
	var s storedPlan
	s.NOMS = r.Str()
	s.Position = r.Uvar()
	s.Revision = r.Uvar()
	s.Custody = aggregates.CustodyStatus(r.Str())
	s.Prison = r.Str()
	s.Responsible = aggregates.Org(r.Str())
	s.ReceivedAt = r.XTime()
	s.ScreenedAt = r.XTime()
	s.Plan.Revision = int(r.Svar())
	s.Plan.Summary = r.Str()
	s.Plan.DraftedAt = r.XTime()
	s.Plan.RevisedAt = r.XTime()
	if n := r.Count(); n > 0 {
		s.Pathways = make(map[aggregates.Pathway]aggregates.PathwayState, n)
		for range n {
			p := aggregates.Pathway(r.Str())
			s.Pathways[p] = aggregates.PathwayState{Status: aggregates.PathwayStatus(r.Str()), Reason: r.Str(), Need: r.Str(),
				IdentifiedAt: r.XTime(), ChangedAt: r.XTime()}
		}
	}
	if n := r.Count(); n > 0 {
		s.Actions = make(map[string]aggregates.Action, n)
		for range n {
			id := r.Str()
			s.Actions[id] = aggregates.Action{ID: r.Str(), Pathway: aggregates.Pathway(r.Str()), Description: r.Str(), Due: r.XDate(),
				Owner: aggregates.Org(r.Str()), AgreedAt: r.XTime(), Outcome: r.Str(), CompletedAt: r.XTime()}
		}
	}
	rd := &s.ReleaseDates
	rd.ConfirmedRelease, rd.ActualParole, rd.HDCActual, rd.ConditionalRelease, rd.AutomaticRelease = r.XDate(), r.XDate(), r.XDate(), r.XDate(), r.XDate()
	s.ReleasedAt = r.XTime()
	s.Closed = r.Bool()
	s.ClosedAt = r.XTime()
	if r.Bool() {
		s.OpenHandover = &aggregates.Handover{Seq: int(r.Svar()), From: aggregates.Org(r.Str()), To: aggregates.Org(r.Str()),
			Reason: r.Str(), Due: r.XTime(), RequestedAt: r.XTime(), Status: aggregates.HandoverStatus(r.Str()),
			DecidedAt: r.XTime(), RejectReason: r.Str()}
	}
	s.ReceptionKind = aggregates.ReceptionKind(r.Str())
	s.ReleaseKind = aggregates.ReleaseKind(r.Str())
	s.Sentence = aggregates.Sentence{Type: aggregates.SentenceType(r.Str()), LengthMonths: int(r.Uvar()), LengthDays: int(r.Uvar()),
		SentenceDate: r.XDate(), OffenceDate: r.XDate(), Under18: r.Bool(), At: r.XTime()}
	s.Needs = aggregates.Needs{HandoverTo: aggregates.Org(r.Str()), HandoverRejected: r.Bool(), HandoverOvertaken: r.Bool(), NoReleaseArea: r.Bool()}
	if r.Err == nil && len(r.B) != 0 {
		r.Err = fmt.Errorf("%w: %d bytes after the plan state", readmodel.ErrCorruptRow, len(r.B))
	}
	return s, r.Err
}

// journey rebuilds enough of the journey for aggregates.Journey.Deadlines.
func (s storedPlan) journey() aggregates.Journey {
	j := aggregates.Journey{NOMS: s.NOMS, Custody: s.Custody, Prison: s.Prison, ReceivedAt: s.ReceivedAt,
		ScreenedAt: s.ScreenedAt, Plan: s.Plan, ReleaseDates: s.ReleaseDates, ReleasedAt: s.ReleasedAt,
		Closed: s.Closed, ClosedAt: s.ClosedAt, Pathways: s.Pathways, Actions: s.Actions,
		ReceptionKind: s.ReceptionKind, ReleaseKind: s.ReleaseKind, Sentence: s.Sentence}
	if s.OpenHandover != nil {
		j.Handovers = []aggregates.Handover{*s.OpenHandover}
	}
	return j
}

// planChange names the plan item an event changes and says what changed, reading
// the pathways and actions before the event for the old values.
// The changes are built by concatenation, not fmt: this runs for most events of a rebuild.
func planChange(pathways map[aggregates.Pathway]aggregates.PathwayState, actions map[string]aggregates.Action, ev aggregates.Event) (item, change string, ok bool) {
	late := func(l bool) string {
		if l {
			return " (late: recorded for the history, current state unchanged)"
		}
		return ""
	}
	switch e := ev.(type) {
	case aggregates.PrisonerReceived:
		return "custody", "received (" + string(e.Kind) + ") at " + e.Prison + late(e.Late), true
	case aggregates.PrisonerReleased:
		return "custody", "released (" + string(e.Kind) + ") from " + e.Prison + late(e.Late), true
	case aggregates.LicenceRevoked:
		return "custody", "licence revoked: " + e.Reason, true
	case aggregates.JourneyClosed:
		return "custody", "journey closed (" + string(e.Reason) + ")", true
	case aggregates.CustodyScreeningCompleted:
		return "screening", "custody screening part 1 completed at " + e.Prison, true
	case aggregates.ResettlementPlanDrafted:
		return "plan", "plan drafted: " + e.Summary, true
	case aggregates.ResettlementPlanRevised:
		return "plan", fmt.Sprintf("revision %d: %s (reason: %s)", e.Revision, e.Summary, e.Reason), true
	case aggregates.ReleaseDatesSet:
		return "releaseDates", "release dates set; displayed " + displayed(e.Dates), true
	case aggregates.ReleaseDatesChanged:
		c := "displayed release date " + displayed(e.Previous) + " → " + displayed(e.Dates)
		if e.Reason != "" {
			c += " (reason: " + e.Reason + ")"
		}
		return "releaseDates", c, true
	case aggregates.PathwayNeedIdentified:
		return "pathway/" + string(e.Pathway), "need identified: " + e.Description + "; status " +
			string(pathwayStatus(pathways, e.Pathway)) + " → " + string(aggregates.StatusSupportRequired), true
	case aggregates.PathwayStatusChanged:
		c := "status " + string(e.From) + " → " + string(e.To)
		if e.Reason != "" {
			c += " (reason: " + e.Reason + ")"
		}
		return "pathway/" + string(e.Pathway), c, true
	case aggregates.ActionAgreed:
		c := "agreed on " + string(e.Pathway) + ": " + e.Description
		if !e.Due.IsZero() {
			c += ", due " + e.Due.String()
		}
		return "action/" + e.ActionID, c, true
	case aggregates.ActionAssigned:
		old := string(actions[e.ActionID].Owner)
		if old == "" {
			old = "nobody"
		}
		return "action/" + e.ActionID, "owner " + old + " → " + string(e.Owner), true
	case aggregates.ActionCompleted:
		return "action/" + e.ActionID, "completed: " + e.Outcome, true
	}
	return "", "", false
}

// pathwayStatus is the status of pathway p as aggregates.Journey.Pathway reads it.
func pathwayStatus(pathways map[aggregates.Pathway]aggregates.PathwayState, p aggregates.Pathway) aggregates.PathwayStatus {
	if s, ok := pathways[p]; ok {
		return s.Status
	}
	return aggregates.StatusNotStarted
}

func displayed(d aggregates.ReleaseDates) string {
	if s := d.Displayed().String(); s != "" {
		return s
	}
	return "none"
}

func appendHistory(w readmodel.Writer, ev *readmodel.Event, change string) readmodel.Writer {
	m := &ev.Envelope
	w.U8(planHistoryVersion)
	w.Uvar(ev.Revision)
	w = append(w, ev.ID[:]...)
	w.Str(ev.Type)
	w.Str(m.UserID)
	w.Str(m.Role)
	w.Str(m.Organisation)
	w.Str(string(m.Source))
	w.Time(m.OccurredAt)
	w.Time(m.RecordedAt)
	w.Str(change)
	return w
}

// HistoryEntry is one change of a plan item.
type HistoryEntry struct {
	// Item is "custody", "screening", "plan", "releaseDates", "pathway/<PATHWAY>"
	// or "action/<id>".
	Item         string
	Position     uint64
	Revision     uint64
	EventID      uuid.UUID
	EventType    string
	UserID       string
	Role         string
	Organisation string
	Source       aggregates.Source
	OccurredAt   time.Time
	RecordedAt   time.Time
	// Change says what changed, with old and new values.
	Change string
}

func decodeHistory(item string, pos uint64, v []byte) (HistoryEntry, error) {
	r := readmodel.Reader{B: v}
	if ver := r.U8(); ver != planHistoryVersion {
		return HistoryEntry{}, fmt.Errorf("%w: plan history version %d", readmodel.ErrCorruptRow, ver)
	}
	h := HistoryEntry{Item: item, Position: pos}
	h.Revision = r.Uvar()
	r.ID((*[16]byte)(&h.EventID))
	h.EventType = r.Str()
	h.UserID = r.Str()
	h.Role = r.Str()
	h.Organisation = r.Str()
	h.Source = aggregates.Source(r.Str())
	h.OccurredAt = r.Time()
	h.RecordedAt = r.Time()
	h.Change = r.Str()
	return h, r.Err
}

// DeadlineView is one derived deadline as of the query's now.
type DeadlineView struct {
	Name string
	// Due is zero when the deadline does not apply (yet).
	Due   time.Time
	Met   bool
	MetAt time.Time
	// Overdue: applies, not met, past due, and still actionable (screening and plan
	// only in custody, nothing once the journey is closed).
	Overdue bool
}

// DeadlinesView are the plan's deadlines and the pre-release window.
type DeadlinesView struct {
	// Screening is due ScreeningWindow (72 hours) after reception.
	Screening DeadlineView
	// Plan is due PlanWorkingDays (5) working days after screening.
	Plan DeadlineView
	// Handover is the due time of the open handover.
	Handover DeadlineView
	// SupervisionEnds is SupervisionMonths (12) after release; met once closed.
	SupervisionEnds DeadlineView
	// ReleaseDate is the displayed release date while in custody.
	ReleaseDate aggregates.Date
	// PreReleaseWindowOpens is PreReleaseDays (84) before ReleaseDate.
	PreReleaseWindowOpens time.Time
	InPreReleaseWindow    bool
}

// ActionView is one action with its history.
type ActionView struct {
	aggregates.Action
	// Overdue: open, with a due date before today (the query's now, UTC).
	Overdue bool
	History []HistoryEntry
}

// PathwayView is one pathway: its status, need, reason, actions and history.
type PathwayView struct {
	Pathway aggregates.Pathway
	aggregates.PathwayState
	Actions []ActionView
	History []HistoryEntry
}

// PlanView is a person's resettlement plan as of the query's now.
type PlanView struct {
	NOMS string
	// Position and Revision are those of the person's last event the plan reflects.
	Position    uint64
	Revision    uint64
	Custody     aggregates.CustodyStatus
	Prison      string
	Responsible aggregates.Org
	Closed      bool
	// Plan is the current custody period's plan: revision (0 = none), summary, dates.
	Plan aggregates.Plan
	// Deadline inputs.
	ReceivedAt   time.Time
	ScreenedAt   time.Time
	ReleaseDates aggregates.ReleaseDates
	ReleasedAt   time.Time
	ClosedAt     time.Time
	Deadlines    DeadlinesView
	// Overdue names the overdue deadlines, in journey order.
	Overdue []string
	// Needs is what the case needs (aggregates.Journey.Needs); Attention names
	// its reasons as the caseload does (Attention.Reasons), so that a plan and a
	// caseload row say the same thing.
	Needs     aggregates.Needs
	Attention []string
	// Pathways are the seven pathways in HMPPS order.
	Pathways []PathwayView
	// History is the history of the other items (custody, screening, plan,
	// releaseDates), in $all order.
	History []HistoryEntry
}

// Plan returns the resettlement plan of the person with prison number noms, with
// deadlines derived under policy and overdue flags decided at now. A person the
// projection has not seen gives a *NotFoundError.
func Plan(r *readmodel.Runner, noms string, now time.Time, policy aggregates.Policy) (PlanView, error) {
	var st storedPlan
	var hist []HistoryEntry
	err := r.View(PlansName, func(b *bolt.Bucket) error {
		people := b.Bucket(planPeople)
		prefix := readmodel.Key(noms)
		var v []byte
		if people != nil {
			v = people.Get(prefix)
		}
		if v == nil {
			return &NotFoundError{Projection: PlansName, Key: noms}
		}
		var err error
		if st, err = decodePlanState(v); err != nil {
			return fmt.Errorf("plan of %s: %w", noms, err)
		}
		return readmodel.ScanPrefix(people, prefix, func(k, v []byte) error {
			switch len(k) - len(prefix) {
			case 0:
				return nil // the state row
			case 8:
			default:
				return fmt.Errorf("%w: plan history key %q", readmodel.ErrCorruptRow, k)
			}
			err := eachHistoryEntry(v, func(item string, pos uint64, row []byte) error {
				h, err := decodeHistory(item, pos, row)
				if err != nil {
					return err
				}
				hist = append(hist, h)
				return nil
			})
			if err != nil {
				return fmt.Errorf("plan history of %s: %w", noms, err)
			}
			return nil
		})
	})
	if err != nil {
		return PlanView{}, err
	}
	return buildPlanView(st, hist, now, policy), nil
}

func buildPlanView(st storedPlan, hist []HistoryEntry, now time.Time, policy aggregates.Policy) PlanView {
	j := st.journey()
	d := j.Deadlines(policy)
	overdue := d.Overdue(now)
	isOverdue := func(name string) bool {
		return slices.ContainsFunc(overdue, func(x aggregates.Deadline) bool { return x.Name == name })
	}
	dv := func(x aggregates.Deadline) DeadlineView {
		return DeadlineView{Name: x.Name, Due: x.Due, Met: x.Met, MetAt: x.MetAt, Overdue: isOverdue(x.Name)}
	}
	v := PlanView{NOMS: st.NOMS, Position: st.Position, Revision: st.Revision, Custody: st.Custody, Prison: st.Prison,
		Responsible: st.Responsible, Closed: st.Closed, Plan: st.Plan, ReceivedAt: st.ReceivedAt, ScreenedAt: st.ScreenedAt,
		ReleaseDates: st.ReleaseDates, ReleasedAt: st.ReleasedAt, ClosedAt: st.ClosedAt,
		Deadlines: DeadlinesView{Screening: dv(d.Screening), Plan: dv(d.Plan), Handover: dv(d.Handover),
			SupervisionEnds: dv(d.SupervisionEnds), ReleaseDate: d.ReleaseDate,
			PreReleaseWindowOpens: d.PreReleaseWindowOpens, InPreReleaseWindow: d.InPreReleaseWindow(now)},
		Overdue: []string{}, History: []HistoryEntry{}, Needs: st.Needs, Attention: needsAttention(st.Needs).Reasons()}
	if v.Attention == nil {
		v.Attention = []string{}
	}
	for _, x := range overdue {
		v.Overdue = append(v.Overdue, x.Name)
	}
	byItem := map[string][]HistoryEntry{}
	for _, h := range hist {
		byItem[h.Item] = append(byItem[h.Item], h)
	}
	for item, hs := range byItem {
		if !strings.HasPrefix(item, "pathway/") && !strings.HasPrefix(item, "action/") {
			v.History = append(v.History, hs...)
		}
	}
	slices.SortFunc(v.History, func(a, b HistoryEntry) int { return cmp.Compare(a.Position, b.Position) })
	today := aggregates.DateOf(now.UTC())
	for _, p := range aggregates.Pathways() {
		pv := PathwayView{Pathway: p, PathwayState: j.Pathway(p), Actions: []ActionView{}, History: byItem["pathway/"+string(p)]}
		if pv.History == nil {
			pv.History = []HistoryEntry{}
		}
		for _, a := range st.Actions {
			if a.Pathway != p {
				continue
			}
			av := ActionView{Action: a, History: byItem["action/"+a.ID]}
			if av.History == nil {
				av.History = []HistoryEntry{}
			}
			av.Overdue = !st.Closed && !a.Completed() && !a.Due.IsZero() && today.After(a.Due)
			pv.Actions = append(pv.Actions, av)
		}
		slices.SortFunc(pv.Actions, func(a, b ActionView) int {
			return cmp.Or(a.AgreedAt.Compare(b.AgreedAt), cmp.Compare(a.ID, b.ID))
		})
		v.Pathways = append(v.Pathways, pv)
	}
	return v
}
