package projections

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/gateledger/gateledger/aggregates"
)

// PlansName names the resettlement plan projection and its bucket.
const PlansName = "plans"

var (
	planState   = []byte("state")
	planHistory = []byte("history")
)

const planHistoryVersion = 1

// PlansProjection keeps each person's resettlement plan: pathways, needs, actions, the plan
// itself, the inputs of the derived deadlines, and the history of every item.
//
// Storage:
//   - "state": key NOMS, value the JSON of storedPlan, the plan-relevant part of the
//     journey after the person's last event (one row per person, read once per query,
//     so JSON's clarity costs nothing that matters).
//   - "history": key NOMS ‖ 0x00 ‖ item ‖ 0x00 ‖ U64(position), value the binary
//     history row (who, organisation, when, what changed). Items are "custody",
//     "screening", "plan", "releaseDates", "pathway/<PATHWAY>" and "action/<id>".
//
// Deadlines and overdue flags are decided at query time from the stored dates.
type PlansProjection struct {
	// pending holds the latest state of each person changed in the current batch, so
	// that a person with several events in a batch is written once (Batcher).
	pending map[string]*pendingPlan
}

type pendingPlan struct {
	j        *aggregates.Journey
	pos, rev uint64
	// pathways and actions are the person's plan items after the last event applied,
	// kept by the projection itself (the runner's journey is folded in place, so it
	// only ever shows the latest state): planChange reads the old values from them.
	pathways map[aggregates.Pathway]aggregates.PathwayState
	actions  map[string]aggregates.Action
}

// NewPlans returns the resettlement plan projection.
func NewPlans() *PlansProjection { return &PlansProjection{pending: map[string]*pendingPlan{}} }

// Name implements Projection.
func (*PlansProjection) Name() string { return PlansName }

// Version implements Projection.
func (*PlansProjection) Version() int { return 1 }

// Apply implements Projection: it writes the history row of a plan item now and keeps
// the person's state for Commit.
func (p *PlansProjection) Apply(b *bolt.Bucket, ev Event) error {
	if !ev.IsJourney() {
		return nil
	}
	if ev.DecodeErr != nil {
		return ev.DecodeErr
	}
	if ev.After == nil {
		return nil
	}
	pp, err := p.pendingOf(b, ev.NOMS)
	if err != nil {
		return err
	}
	pp.j, pp.pos, pp.rev = ev.After, ev.Position, ev.Revision
	item, change, ok := planChange(pp.pathways, pp.actions, ev.Domain)
	pp.track(ev.Domain, ev.After)
	if !ok {
		return nil
	}
	hist, err := subBucket(b, planHistory)
	if err != nil {
		return err
	}
	k := append(key(ev.NOMS, item), U64(ev.Position)...)
	if err := hist.Put(k, encodeHistory(&ev, change)); err != nil {
		return fmt.Errorf("plan history: %w", err)
	}
	return nil
}

// pendingOf returns the batch's entry for noms, starting it from the stored state row
// when the person has not been seen in this batch.
func (p *PlansProjection) pendingOf(b *bolt.Bucket, noms string) (*pendingPlan, error) {
	if pp := p.pending[noms]; pp != nil {
		return pp, nil
	}
	pp := &pendingPlan{}
	if st := b.Bucket(planState); st != nil {
		if v := st.Get([]byte(noms)); v != nil {
			var sp storedPlan
			if err := json.Unmarshal(v, &sp); err != nil {
				return nil, fmt.Errorf("%w: plan of %s: %w", ErrCorruptRow, noms, err)
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
	p.pending[noms] = pp
	return pp, nil
}

// track copies the plan item ev changed from the journey after it. Only the plan
// events change pathways and actions, each one item.
func (pp *pendingPlan) track(ev aggregates.Event, after *aggregates.Journey) {
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
	st, err := subBucket(b, planState)
	if err != nil {
		return err
	}
	nomss := make([]string, 0, len(p.pending))
	for n := range p.pending {
		nomss = append(nomss, n)
	}
	slices.Sort(nomss)
	for _, n := range nomss {
		pp := p.pending[n]
		v, err := json.Marshal(storedPlanOf(pp.j, pp.pos, pp.rev))
		if err != nil {
			return fmt.Errorf("plan of %s: %w", n, err)
		}
		if err := st.Put([]byte(n), v); err != nil {
			return fmt.Errorf("plan of %s: %w", n, err)
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
}

func storedPlanOf(j *aggregates.Journey, pos, rev uint64) storedPlan {
	return storedPlan{NOMS: j.NOMS, Position: pos, Revision: rev, Custody: j.Custody, Prison: j.Prison,
		Responsible: j.Responsible(), ReceivedAt: j.ReceivedAt, ScreenedAt: j.ScreenedAt, Plan: j.Plan,
		Pathways: j.Pathways, Actions: j.Actions, ReleaseDates: j.ReleaseDates, ReleasedAt: j.ReleasedAt,
		Closed: j.Closed, ClosedAt: j.ClosedAt, OpenHandover: j.OpenHandover()}
}

// journey rebuilds enough of the journey for aggregates.Journey.Deadlines.
func (s storedPlan) journey() aggregates.Journey {
	j := aggregates.Journey{NOMS: s.NOMS, Custody: s.Custody, Prison: s.Prison, ReceivedAt: s.ReceivedAt,
		ScreenedAt: s.ScreenedAt, Plan: s.Plan, ReleaseDates: s.ReleaseDates, ReleasedAt: s.ReleasedAt,
		Closed: s.Closed, ClosedAt: s.ClosedAt, Pathways: s.Pathways, Actions: s.Actions}
	if s.OpenHandover != nil {
		j.Handovers = []aggregates.Handover{*s.OpenHandover}
	}
	return j
}

// planChange names the plan item an event changes and says what changed, reading
// the pathways and actions before the event for the old values.
func planChange(pathways map[aggregates.Pathway]aggregates.PathwayState, actions map[string]aggregates.Action, ev aggregates.Event) (item, change string, ok bool) {
	late := func(l bool) string {
		if l {
			return " (late: recorded for the history, current state unchanged)"
		}
		return ""
	}
	switch e := ev.(type) {
	case aggregates.PrisonerReceived:
		return "custody", fmt.Sprintf("received (%s) at %s%s", e.Kind, e.Prison, late(e.Late)), true
	case aggregates.PrisonerReleased:
		return "custody", fmt.Sprintf("released (%s) from %s%s", e.Kind, e.Prison, late(e.Late)), true
	case aggregates.LicenceRevoked:
		return "custody", "licence revoked: " + e.Reason, true
	case aggregates.JourneyClosed:
		return "custody", fmt.Sprintf("journey closed (%s)", e.Reason), true
	case aggregates.CustodyScreeningCompleted:
		return "screening", "custody screening part 1 completed at " + e.Prison, true
	case aggregates.ResettlementPlanDrafted:
		return "plan", "plan drafted: " + e.Summary, true
	case aggregates.ResettlementPlanRevised:
		return "plan", fmt.Sprintf("revision %d: %s (reason: %s)", e.Revision, e.Summary, e.Reason), true
	case aggregates.ReleaseDatesSet:
		return "releaseDates", "release dates set; displayed " + displayed(e.Dates), true
	case aggregates.ReleaseDatesChanged:
		c := fmt.Sprintf("displayed release date %s → %s", displayed(e.Previous), displayed(e.Dates))
		if e.Reason != "" {
			c += " (reason: " + e.Reason + ")"
		}
		return "releaseDates", c, true
	case aggregates.PathwayNeedIdentified:
		return "pathway/" + string(e.Pathway), fmt.Sprintf("need identified: %s; status %s → %s",
			e.Description, pathwayStatus(pathways, e.Pathway), aggregates.StatusSupportRequired), true
	case aggregates.PathwayStatusChanged:
		c := fmt.Sprintf("status %s → %s", e.From, e.To)
		if e.Reason != "" {
			c += " (reason: " + e.Reason + ")"
		}
		return "pathway/" + string(e.Pathway), c, true
	case aggregates.ActionAgreed:
		c := fmt.Sprintf("agreed on %s: %s", e.Pathway, e.Description)
		if !e.Due.IsZero() {
			c += ", due " + e.Due.String()
		}
		return "action/" + e.ActionID, c, true
	case aggregates.ActionAssigned:
		old := string(actions[e.ActionID].Owner)
		if old == "" {
			old = "nobody"
		}
		return "action/" + e.ActionID, fmt.Sprintf("owner %s → %s", old, e.Owner), true
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

func encodeHistory(ev *Event, change string) []byte {
	m := &ev.Envelope
	var w wbuf
	w.u8(planHistoryVersion)
	w.uvar(ev.Revision)
	w = append(w, ev.ID[:]...)
	w.str(ev.Type)
	w.str(m.UserID)
	w.str(m.Role)
	w.str(m.Organisation)
	w.str(string(m.Source))
	w.time(m.OccurredAt)
	w.time(m.RecordedAt)
	w.str(change)
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
	r := rbuf{b: v}
	if ver := r.u8(); ver != planHistoryVersion {
		return HistoryEntry{}, fmt.Errorf("%w: plan history version %d", ErrCorruptRow, ver)
	}
	h := HistoryEntry{Item: item, Position: pos}
	h.Revision = r.uvar()
	if len(r.b) < 16 {
		r.fail()
	} else {
		copy(h.EventID[:], r.b[:16])
		r.b = r.b[16:]
	}
	h.EventType = r.str()
	h.UserID = r.str()
	h.Role = r.str()
	h.Organisation = r.str()
	h.Source = aggregates.Source(r.str())
	h.OccurredAt = r.time()
	h.RecordedAt = r.time()
	h.Change = r.str()
	return h, r.err
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
	// Pathways are the seven pathways in HMPPS order.
	Pathways []PathwayView
	// History is the history of the other items (custody, screening, plan,
	// releaseDates), in $all order.
	History []HistoryEntry
}

// Plan returns the resettlement plan of the person with prison number noms, with
// deadlines derived under policy and overdue flags decided at now. A person the
// projection has not seen gives a *NotFoundError.
func Plan(r *Runner, noms string, now time.Time, policy aggregates.Policy) (PlanView, error) {
	var st storedPlan
	var hist []HistoryEntry
	err := r.View(PlansName, func(b *bolt.Bucket) error {
		s := b.Bucket(planState)
		var v []byte
		if s != nil {
			v = s.Get([]byte(noms))
		}
		if v == nil {
			return &NotFoundError{Projection: PlansName, Key: noms}
		}
		if err := json.Unmarshal(v, &st); err != nil {
			return fmt.Errorf("%w: plan of %s: %w", ErrCorruptRow, noms, err)
		}
		prefix := key(noms)
		return scanPrefix(b.Bucket(planHistory), prefix, func(k, v []byte) error {
			rest := k[len(prefix):]
			if len(rest) < 9 || rest[len(rest)-9] != 0 {
				return fmt.Errorf("%w: plan history key %q", ErrCorruptRow, k)
			}
			item := string(rest[:len(rest)-9])
			r := rbuf{b: rest[len(rest)-8:]}
			h, err := decodeHistory(item, r.u64(), v)
			if err != nil {
				return fmt.Errorf("plan history of %s: %w", noms, err)
			}
			hist = append(hist, h)
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
		Overdue: []string{}, History: []HistoryEntry{}}
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
