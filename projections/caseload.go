package projections

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// CaseloadName names the caseload projection and its bucket.
const CaseloadName = "caseload"

var (
	caseRows   = []byte("rows")
	casePeople = []byte("people")
	caseCounts = []byte("counts")
)

// CaseloadProjection keeps, per organisation, one compact row per person it can see: the
// responsible organisation, both sides of an open handover, and the prison holding the
// person (the same rule as aggregates.Journey.CanSee). When responsibility moves, the
// person's row is deleted from the old organisation and written to the new one: the
// accountability trail lives in the handovers and audit read models, not here.
//
// Storage:
//   - "rows": key org ‖ 0x00 ‖ NOMS, value the fixed binary row of encodeCaseRow (a
//     61-byte header of flags and times, then four short strings and the due dates of
//     open actions); one prefix scan reads an organisation's caseload.
//   - "people": key NOMS, value the organisations that hold a row for the person, so
//     that a move deletes exactly the rows written before.
//   - "counts": key org, value U64(number of its rows), so that a query sizes its
//     result once.
//   - "sorted": the secondary index of CaseloadPage's other orders (caseload_index.go),
//     written in the same transaction as the rows it indexes.
//
// Everything that depends on now (stage, overdue flags) is decided at query time from
// the due times stored in the row; the due times themselves come from the policy the
// projection was built with (aggregates.Journey.Deadlines).
type CaseloadProjection struct {
	policy aggregates.Policy
	// needs is computed once per person per batch: relations and the row both use it.
	needs aggregates.Needs
	// pending holds the latest state of each person seen in the current batch, so that
	// a person with several events in a batch is written once (Batcher).
	pending map[string]*aggregates.Journey
	kbuf    []byte // scratch for row keys looked up before a Put
}

// NewCaseload returns the caseload projection; policy decides the due times.
func NewCaseload(policy aggregates.Policy) *CaseloadProjection {
	return &CaseloadProjection{policy: policy, pending: map[string]*aggregates.Journey{}}
}

// Name implements Projection.
func (*CaseloadProjection) Name() string { return CaseloadName }

// Version implements Projection.
// Version 2: rows carry two flag bytes (unlawfully at large, detained elsewhere,
// release dates to confirm).
// Version 3: the "sorted" index by release date and next deadline.
// Version 4: rows carry what the case needs (aggregates.Journey.Needs) and the
// organisation that should take it, which gets a row of its own
// (RelShouldTake).
func (*CaseloadProjection) Version() int { return 4 }

// Apply implements Projection.
func (c *CaseloadProjection) Apply(_ *bolt.Bucket, ev *readmodel.Event) error {
	if !ev.IsJourney() {
		return nil
	}
	if ev.DecodeErr != nil {
		return ev.DecodeErr
	}
	if ev.After != nil {
		c.pending[ev.NOMS] = ev.After
	}
	return nil
}

// Commit implements Batcher: it writes the rows of every person changed in the batch.
func (c *CaseloadProjection) Commit(b *bolt.Bucket) error {
	if len(c.pending) == 0 {
		return nil
	}
	rows, err := readmodel.SubBucket(b, caseRows)
	if err != nil {
		return err
	}
	people, err := readmodel.SubBucket(b, casePeople)
	if err != nil {
		return err
	}
	nomss := make([]string, 0, len(c.pending))
	for n := range c.pending {
		nomss = append(nomss, n)
	}
	slices.Sort(nomss)
	for _, n := range nomss {
		if err := c.update(b, rows, people, n, c.pending[n]); err != nil {
			return fmt.Errorf("caseload of %s: %w", n, err)
		}
	}
	clear(c.pending)
	return nil
}

// Rollback implements Batcher.
func (c *CaseloadProjection) Rollback() { clear(c.pending) }

// Relation says why an organisation sees a person; a row can carry several.
type Relation uint8

// Relations.
const (
	// RelResponsible: the organisation is accountable for the case now.
	RelResponsible Relation = 1 << iota
	// RelHandingOver: the organisation asked to hand the case over (open handover).
	RelHandingOver
	// RelReceiving: the organisation is asked to take the case (open handover).
	RelReceiving
	// RelHolding: the prison holds the person in custody.
	RelHolding
	// RelShouldTake: a rule says the organisation should take the case and no
	// handover to it can be decided (aggregates.Needs.HandoverTo).
	RelShouldTake
)

// Has reports whether r includes x.
func (r Relation) Has(x Relation) bool { return r&x != 0 }

type orgRel struct {
	org aggregates.Org
	rel Relation
}

// relations lists who sees the journey, in a fixed order, each organisation once.
func relations(j *aggregates.Journey, needs aggregates.Needs) []orgRel {
	var out []orgRel
	add := func(o aggregates.Org, r Relation) {
		if o == "" {
			return
		}
		for i := range out {
			if out[i].org == o {
				out[i].rel |= r
				return
			}
		}
		out = append(out, orgRel{o, r})
	}
	if j.MergedInto != "" {
		// The person's case continues under the number it was merged into.
		return nil
	}
	add(j.Responsible(), RelResponsible)
	if h := j.OpenHandover(); h != nil {
		add(h.From, RelHandingOver)
		add(h.To, RelReceiving)
	}
	if j.Custody == aggregates.InCustody {
		add(aggregates.Org(j.Prison), RelHolding)
	}
	add(needs.HandoverTo, RelShouldTake)
	return out
}

func (c *CaseloadProjection) update(b, rows, people *bolt.Bucket, noms string, j *aggregates.Journey) error {
	c.needs = j.Needs(c.policy)
	now := relations(j, c.needs)
	var had []string
	if old := people.Get([]byte(noms)); old != nil {
		r := readmodel.Reader{B: old}
		for n := r.Uvar(); n > 0 && r.Err == nil; n-- {
			org := r.Str()
			had = append(had, org)
			if !slices.ContainsFunc(now, func(x orgRel) bool { return string(x.org) == org }) {
				k := append(readmodel.Key(org), noms...)
				if err := reindexCase(b, org, noms, rows.Get(k), nil); err != nil {
					return err
				}
				if err := rows.Delete(k); err != nil {
					return err
				}
				if err := addCount(b, org, -1); err != nil {
					return err
				}
			}
		}
		if r.Err != nil {
			return r.Err
		}
	}
	if len(now) == 0 {
		return people.Delete([]byte(noms))
	}
	base := caseRowFor(j, c.policy, c.needs)
	var orgs readmodel.Writer
	orgs.Uvar(uint64(len(now)))
	for _, x := range now {
		orgs.Str(string(x.org))
		k := append(append(append(c.kbuf[:0], x.org...), 0), noms...)
		c.kbuf = k
		v := base.encode(x.rel)
		// An unchanged row is not written again: a Put dirties its page even when
		// the bytes are the same, and most events change nothing a caseload shows.
		if old := rows.Get(k); !bytes.Equal(old, v) || old == nil {
			if err := reindexCase(b, string(x.org), noms, old, v); err != nil {
				return err
			}
			if err := rows.Put(bytes.Clone(k), v); err != nil {
				return err
			}
		}
		if !slices.Contains(had, string(x.org)) {
			if err := addCount(b, string(x.org), 1); err != nil {
				return err
			}
		}
	}
	if old := people.Get([]byte(noms)); bytes.Equal(old, orgs) && old != nil {
		return nil
	}
	return people.Put([]byte(noms), orgs)
}

// addCount keeps the number of rows of each organisation, so that a query allocates
// its result once instead of growing it.
func addCount(b *bolt.Bucket, org string, d int64) error {
	counts, err := readmodel.SubBucket(b, caseCounts)
	if err != nil {
		return err
	}
	var n uint64
	if v := counts.Get([]byte(org)); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	n = uint64(int64(n) + d)
	if n == 0 {
		return counts.Delete([]byte(org))
	}
	return counts.Put([]byte(org), readmodel.U64(n))
}

// Row flags.
const (
	flagInCustody = 1 << iota
	flagReleased
	flagClosed
	flagPlanDrafted
	flagRecallPending
	flagHandoverOpen
	flagAtLarge
	flagDetainedElsewhere
	flagDatesToConfirm
	flagHandoverNeeded
	flagHandoverRejected
	flagHandoverOvertaken
	flagNoReleaseArea
)

const (
	caseRowVersion = 3
	caseHeaderLen  = 6 + 7*8
	// caseRowStrings is how many short strings follow the header: CRN,
	// prison, responsible, handover from and to, should take.
	caseRowStrings = 6
)

// storedCase is what the row keeps: inputs, not conclusions that depend on now.
type storedCase struct {
	flags        uint16
	rosh         aggregates.RoSH
	mappa        int
	releaseDate  aggregates.Date
	screeningDue time.Time // zero when screened or not applicable
	planDue      time.Time // zero when drafted or not applicable
	windowOpens  time.Time
	supervision  time.Time // zero when closed or not released
	handoverDue  time.Time
	releasedAt   time.Time
	crn, prison  string
	responsible  aggregates.Org
	from, to     aggregates.Org // open handover
	shouldTake   aggregates.Org // aggregates.Needs.HandoverTo
	actionDue    []int32        // days since the epoch of open actions' due dates, sorted
}

func caseRowFor(j *aggregates.Journey, p aggregates.Policy, needs aggregates.Needs) storedCase {
	d := j.Deadlines(p)
	s := storedCase{rosh: j.RoSH, mappa: j.MAPPA, releaseDate: j.ReleaseDates.Displayed(),
		windowOpens: d.PreReleaseWindowOpens, releasedAt: j.ReleasedAt, crn: j.CRN, prison: j.Prison,
		responsible: j.Responsible()}
	switch j.Custody {
	case aggregates.InCustody:
		s.flags |= flagInCustody
	case aggregates.Released:
		s.flags |= flagReleased
	case aggregates.UnlawfullyAtLarge:
		s.flags |= flagAtLarge
	case aggregates.DetainedElsewhere:
		s.flags |= flagDetainedElsewhere
	}
	if j.ReleaseDatesToConfirm {
		s.flags |= flagDatesToConfirm
	}
	if needs.HandoverTo != "" {
		s.flags |= flagHandoverNeeded
		s.shouldTake = needs.HandoverTo
	}
	if needs.HandoverRejected {
		s.flags |= flagHandoverRejected
	}
	if needs.HandoverOvertaken {
		s.flags |= flagHandoverOvertaken
	}
	if needs.NoReleaseArea {
		s.flags |= flagNoReleaseArea
	}
	if j.Closed {
		s.flags |= flagClosed
	}
	if j.Plan.Revision > 0 {
		s.flags |= flagPlanDrafted
	}
	if j.RecallPending {
		s.flags |= flagRecallPending
	}
	if !d.Screening.Met {
		s.screeningDue = d.Screening.Due
	}
	if !d.Plan.Met {
		s.planDue = d.Plan.Due
	}
	if !d.SupervisionEnds.Met {
		s.supervision = d.SupervisionEnds.Due
	}
	if h := j.OpenHandover(); h != nil {
		s.flags |= flagHandoverOpen
		s.handoverDue, s.from, s.to = h.Due, h.From, h.To
	}
	for _, a := range j.Actions {
		if !a.Completed() && !a.Due.IsZero() {
			s.actionDue = append(s.actionDue, dateDays(a.Due))
		}
	}
	slices.Sort(s.actionDue)
	return s
}

func dateDays(d aggregates.Date) int32 {
	if d.IsZero() {
		return 0
	}
	return int32(d.Time().Unix() / 86400)
}

func daysDate(n int32) aggregates.Date {
	if n == 0 {
		return aggregates.Date{}
	}
	return aggregates.DateOf(time.Unix(int64(n)*86400, 0).UTC())
}

// encode lays the row out as: version, relation, flags (two bytes, big-endian), RoSH rank, MAPPA level; seven
// big-endian int64 (release date as days, then Unix nanoseconds of the screening, plan,
// window, supervision and handover due times and of the release); then CRN, prison,
// responsible, handover from and to, and the organisation that should take the case
// as u8-length strings; then the count of open
// action due dates and each as a big-endian int32 day number.
func (s storedCase) encode(rel Relation) []byte {
	w := make([]byte, caseHeaderLen, caseHeaderLen+40+4*len(s.actionDue))
	be := binary.BigEndian
	w[0], w[1] = caseRowVersion, byte(rel)
	be.PutUint16(w[2:], s.flags)
	w[4], w[5] = roshRank(s.rosh), byte(s.mappa)
	be.PutUint64(w[6:], uint64(dateDays(s.releaseDate)))
	for i, t := range [...]time.Time{s.screeningDue, s.planDue, s.windowOpens, s.supervision, s.handoverDue, s.releasedAt} {
		be.PutUint64(w[14+8*i:], uint64(readmodel.TimeNanos(t)))
	}
	for _, str := range [...]string{s.crn, s.prison, string(s.responsible), string(s.from), string(s.to), string(s.shouldTake)} {
		w = append(w, byte(len(str)))
		w = append(w, str...)
	}
	w = binary.AppendUvarint(w, uint64(len(s.actionDue)))
	for _, d := range s.actionDue {
		w = be.AppendUint32(w, uint32(d))
	}
	return w
}

var roshLevels = [...]aggregates.RoSH{"", aggregates.RoSHLow, aggregates.RoSHMedium, aggregates.RoSHHigh, aggregates.RoSHVeryHigh}

func roshRank(r aggregates.RoSH) byte {
	for i, x := range roshLevels {
		if x == r {
			return byte(i)
		}
	}
	return 0
}

// Stage is where a person is in the journey, as of the time a query asks.
type Stage string

// Stages.
const (
	StageCustody    Stage = "CUSTODY"
	StagePreRelease Stage = "PRE_RELEASE_WINDOW"
	StageReleased   Stage = "RELEASED"
	StageClosed     Stage = "CLOSED"
	// StageAtLarge: custody ended without a release; a recall is expected.
	StageAtLarge Stage = "UNLAWFULLY_AT_LARGE"
	// StageDetainedElsewhere: moved to a secure hospital or an immigration
	// removal centre; detention continues there.
	StageDetainedElsewhere Stage = "DETAINED_ELSEWHERE"
)

// Attention is a set of reasons a case needs someone to act.
type Attention uint16

// Reasons for attention.
const (
	// AttnScreeningOverdue: Basic Custody Screening part 1 is past due.
	AttnScreeningOverdue Attention = 1 << iota
	// AttnPlanOverdue: the resettlement plan is past due.
	AttnPlanOverdue
	// AttnHandoverOpen: a handover of the case is waiting for a decision.
	AttnHandoverOpen
	// AttnHandoverOverdue: that handover is past its due date.
	AttnHandoverOverdue
	// AttnActionsOverdue: open actions are past their due dates.
	AttnActionsOverdue
	// AttnNoPlanInWindow: in the pre-release window with no plan.
	AttnNoPlanInWindow
	// AttnReleaseDatePassed: still in custody after the displayed release date.
	AttnReleaseDatePassed
	// AttnSupervisionEnded: supervision has ended but the journey is not closed.
	AttnSupervisionEnded
	// AttnRecallPending: the licence was revoked and the reception is awaited.
	AttnRecallPending
	// AttnUnlawfullyAtLarge: custody ended without a release (absconded,
	// escaped, failed to return); it clears when the person is received.
	AttnUnlawfullyAtLarge
	// AttnReleaseDatesToConfirm: NOMIS recalculated the sentence; the release
	// dates must be confirmed (recorded again) by the prison.
	AttnReleaseDatesToConfirm
	// AttnHandoverNeeded: a rule says another organisation should take the
	// case and no handover to it is open; it clears when one is requested.
	AttnHandoverNeeded
	// AttnHandoverRejected: that organisation rejected the last handover to it.
	AttnHandoverRejected
	// AttnHandoverOvertaken: the open handover asks an organisation that no
	// longer exists (probation unification); reject it and ask its successor.
	AttnHandoverOvertaken
	// AttnNoReleaseArea: released with supervision to follow and no release
	// area, so no probation organisation can be asked; it clears when the
	// area is recorded.
	AttnNoReleaseArea
)

var attentionNames = [...]string{"SCREENING_OVERDUE", "PLAN_OVERDUE", "HANDOVER_OPEN", "HANDOVER_OVERDUE",
	"ACTIONS_OVERDUE", "NO_PLAN_IN_PRE_RELEASE_WINDOW", "RELEASE_DATE_PASSED", "SUPERVISION_ENDED", "RECALL_PENDING",
	"UNLAWFULLY_AT_LARGE", "RELEASE_DATES_TO_CONFIRM", "HANDOVER_NEEDED", "HANDOVER_REJECTED", "HANDOVER_OVERTAKEN",
	"NO_RELEASE_AREA"}

// attentionLabels say each reason in plain words: the one table pages, downloads
// and the README read (AttentionLabel).
var attentionLabels = map[string]string{
	"SCREENING_OVERDUE":             "Screening overdue",
	"PLAN_OVERDUE":                  "Plan overdue",
	"HANDOVER_OPEN":                 "Handover open",
	"HANDOVER_OVERDUE":              "Handover overdue",
	"ACTIONS_OVERDUE":               "Actions overdue",
	"NO_PLAN_IN_PRE_RELEASE_WINDOW": "No plan in pre-release window",
	"RELEASE_DATE_PASSED":           "Release date passed",
	"SUPERVISION_ENDED":             "Supervision ended",
	"RECALL_PENDING":                "Recall pending",
	"UNLAWFULLY_AT_LARGE":           "Unlawfully at large",
	"RELEASE_DATES_TO_CONFIRM":      "Release dates to confirm",
	"HANDOVER_NEEDED":               "Needs handing over: no handover requested",
	"HANDOVER_REJECTED":             "Handover refused: someone must still take the case",
	"HANDOVER_OVERTAKEN":            "Handover to an organisation that no longer exists",
	"NO_RELEASE_AREA":               "Released with no release area",
}

// needsAttention is the attention of the reasons in n (the ones that do not depend on
// now), for the plan view.
func needsAttention(n aggregates.Needs) Attention {
	var a Attention
	if n.HandoverTo != "" {
		a |= AttnHandoverNeeded
	}
	if n.HandoverRejected {
		a |= AttnHandoverRejected
	}
	if n.HandoverOvertaken {
		a |= AttnHandoverOvertaken
	}
	if n.NoReleaseArea {
		a |= AttnNoReleaseArea
	}
	return a
}

// AttentionLabel says a reason for attention (a name from Attention.Reasons) in
// plain words; an unknown name is returned as it is.
func AttentionLabel(reason string) string {
	if l, ok := attentionLabels[reason]; ok {
		return l
	}
	return reason
}

// Has reports whether a includes x.
func (a Attention) Has(x Attention) bool { return a&x != 0 }

// Reasons names the reasons in a, in a fixed order.
func (a Attention) Reasons() []string {
	var out []string
	for i, n := range attentionNames {
		if a&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

func (a Attention) String() string { return strings.Join(a.Reasons(), ",") }

// CaseRow is one person in an organisation's caseload.
type CaseRow struct {
	NOMS        string
	CRN         string
	Prison      string
	Responsible aggregates.Org
	// Relation says why the organisation sees the person.
	Relation Relation
	Stage    Stage
	// ReleaseDate is the displayed release date of the current custody period (or
	// of the last one, after release); ReleasedAt the actual release.
	ReleaseDate aggregates.Date
	ReleasedAt  time.Time
	RoSH        aggregates.RoSH
	MAPPA       int
	Attention   Attention
	// OverdueActions counts open actions past their due dates.
	OverdueActions int
	// NextDue is the earliest deadline still open (screening, plan, handover decision,
	// an action, supervision end), zero when none; it may be past (caseNextDue).
	NextDue time.Time
	// Handover is the open handover, nil when none (most rows: a pointer keeps the
	// row small, and 5,000 rows are allocated per query).
	Handover *OpenHandover
	// ShouldTake is the organisation a rule says should take the case when no
	// handover to it can be decided (aggregates.Needs.HandoverTo), "" if none.
	ShouldTake aggregates.Org
}

// OpenHandover is the handover of a case waiting for a decision.
type OpenHandover struct {
	From, To aggregates.Org
	Due      time.Time
}

// Caseload returns the people org can see, in NOMS order, with stage and attention
// decided at now. An organisation with no cases gets an empty list.
func Caseload(r *readmodel.Runner, org string, now time.Time) ([]CaseRow, error) {
	var out []CaseRow
	err := r.View(CaseloadName, func(b *bolt.Bucket) error {
		rows := b.Bucket(caseRows)
		if rows == nil {
			return nil
		}
		prefix := readmodel.Key(org)
		in := func(k []byte) bool { return len(k) > len(prefix) && string(k[:len(prefix)]) == string(prefix) }
		n := 0
		if counts := b.Bucket(caseCounts); counts != nil {
			if v := counts.Get([]byte(org)); len(v) == 8 {
				n = int(binary.BigEndian.Uint64(v))
			}
		}
		out = make([]CaseRow, 0, n)
		q := newCaseQuery(now, n)
		c := rows.Cursor()
		for k, v := c.Seek(prefix); k != nil && in(k); k, v = c.Next() {
			out = append(out, CaseRow{})
			if err := q.decode(&out[len(out)-1], k[len(prefix):], v); err != nil {
				return fmt.Errorf("caseload of %s: %w", org, err)
			}
		}
		q.finish(out)
		return nil
	})
	if out == nil && err == nil {
		out = []CaseRow{}
	}
	return out, err
}

// CanSee reports whether org holds a caseload row for the person that gives it
// sight: it is responsible, on either side of an open handover, or the prison holding
// them. A row that only says the organisation should take the case (RelShouldTake)
// does not: sight comes with a handover.
func CanSee(r *readmodel.Runner, org, noms string) (bool, error) {
	found := false
	err := r.View(CaseloadName, func(b *bolt.Bucket) error {
		rows := b.Bucket(caseRows)
		if rows == nil {
			return nil
		}
		v := rows.Get(append(readmodel.Key(org), noms...))
		found = len(v) > 1 && Relation(v[1])&^RelShouldTake != 0
		return nil
	})
	return found, err
}

// SupervisionEnded lists, in NOMS order, the people whose supervision after release
// ended before now and whose journey is not closed: the work of the closer (package
// closure), which checks each on its stream before closing it.
func SupervisionEnded(r *readmodel.Runner, now time.Time) ([]string, error) {
	var out []string
	cut := now.UnixNano()
	err := r.View(CaseloadName, func(b *bolt.Bucket) error {
		rows := b.Bucket(caseRows)
		if rows == nil {
			return nil
		}
		return rows.ForEach(func(k, v []byte) error {
			if len(v) < caseHeaderLen || v[0] != caseRowVersion || Relation(v[1])&RelResponsible == 0 {
				return nil // each person has one responsible row
			}
			flags := binary.BigEndian.Uint16(v[2:])
			supervision := int64(binary.BigEndian.Uint64(v[14+8*3:]))
			if flags&flagReleased == 0 || flags&flagClosed != 0 || supervision == 0 || supervision > cut {
				return nil
			}
			if i := bytes.IndexByte(k, 0); i >= 0 {
				out = append(out, string(k[i+1:]))
			}
			return nil
		})
	})
	slices.Sort(out)
	return slices.Compact(out), err
}

// caseQuery decodes rows for one query: now in the forms the comparisons need, the
// organisation and prison codes interned, and the NOMS numbers and CRNs gathered in
// one buffer that becomes one string at the end, so that 5,000 rows cost a handful of
// allocations rather than 20,000 (allocation and the GC work it brings dominated the
// tail latency).
type caseQuery struct {
	now    int64
	today  int32
	intern map[string]string
	recent [4]string
	next   int
	// arena holds each row's NOMS then CRN; ends[2i] and ends[2i+1] are where row i's
	// NOMS and CRN end.
	arena []byte
	ends  []int
}

func newCaseQuery(now time.Time, rows int) *caseQuery {
	return &caseQuery{now: now.UnixNano(), today: dateDays(aggregates.DateOf(now.UTC())), intern: map[string]string{},
		arena: make([]byte, 0, 14*rows), ends: make([]int, 0, 2*rows)}
}

// finish sets the NOMS numbers and CRNs of the decoded rows from the arena.
func (q *caseQuery) finish(rows []CaseRow) {
	s := string(q.arena)
	start := 0
	for i := range rows {
		rows[i].NOMS = s[start:q.ends[2*i]]
		rows[i].CRN = s[q.ends[2*i]:q.ends[2*i+1]]
		start = q.ends[2*i+1]
	}
}

func (q *caseQuery) str(b []byte) string {
	// Most rows repeat the codes of the row before: compare with those first.
	for _, s := range q.recent {
		if s == string(b) {
			return s
		}
	}
	s, ok := q.intern[string(b)]
	if !ok {
		s = string(b)
		q.intern[s] = s
	}
	q.recent[q.next%len(q.recent)] = s
	q.next++
	return s
}

// decode fills *row (which must be zero) from a stored row.
func (q *caseQuery) decode(row *CaseRow, noms, v []byte) error {
	if len(v) < caseHeaderLen || v[0] != caseRowVersion {
		return fmt.Errorf("%w: caseload row of %s", readmodel.ErrCorruptRow, noms)
	}
	be := binary.BigEndian
	row.Relation, row.MAPPA = Relation(v[1]), int(v[5])
	flags := be.Uint16(v[2:])
	if int(v[4]) < len(roshLevels) {
		row.RoSH = roshLevels[v[4]]
	}
	releaseDays := int32(be.Uint64(v[6:]))
	var t [6]int64
	for i := range t {
		t[i] = int64(be.Uint64(v[14+8*i:]))
	}
	screeningDue, planDue, windowOpens, supervision, handoverDue, releasedAt := t[0], t[1], t[2], t[3], t[4], t[5]
	rest := v[caseHeaderLen:]
	var strs [caseRowStrings][]byte
	for i := range strs {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return fmt.Errorf("%w: caseload row of %s", readmodel.ErrCorruptRow, noms)
		}
		strs[i], rest = rest[1:1+int(rest[0])], rest[1+int(rest[0]):]
	}
	n, w := binary.Uvarint(rest)
	if w <= 0 || uint64(len(rest)-w) < 4*n {
		return fmt.Errorf("%w: caseload row of %s", readmodel.ErrCorruptRow, noms)
	}
	rest = rest[w:]
	q.arena = append(q.arena, noms...)
	q.ends = append(q.ends, len(q.arena))
	q.arena = append(q.arena, strs[0]...)
	q.ends = append(q.ends, len(q.arena))
	row.Prison = q.str(strs[1])
	row.Responsible = aggregates.Org(q.str(strs[2]))
	row.ReleaseDate = daysDate(releaseDays)
	row.ReleasedAt = readmodel.NanosTime(releasedAt)
	row.NextDue = readmodel.NanosTime(caseNextDue(flags, t, rest, n))

	inCustody, released, closed := flags&flagInCustody != 0, flags&flagReleased != 0, flags&flagClosed != 0
	switch {
	case closed:
		row.Stage = StageClosed
	case released:
		row.Stage = StageReleased
	case flags&flagAtLarge != 0:
		row.Stage = StageAtLarge
	case flags&flagDetainedElsewhere != 0:
		row.Stage = StageDetainedElsewhere
	case windowOpens != 0 && q.now >= windowOpens:
		row.Stage = StagePreRelease
	default:
		row.Stage = StageCustody
	}
	if flags&flagHandoverOpen != 0 {
		row.Handover = &OpenHandover{From: aggregates.Org(q.str(strs[3])), To: aggregates.Org(q.str(strs[4])), Due: readmodel.NanosTime(handoverDue)}
	}
	if len(strs[5]) > 0 {
		row.ShouldTake = aggregates.Org(q.str(strs[5]))
	}
	if closed {
		return nil
	}
	var a Attention
	if inCustody {
		if screeningDue != 0 && q.now > screeningDue {
			a |= AttnScreeningOverdue
		}
		if planDue != 0 && q.now > planDue {
			a |= AttnPlanOverdue
		}
		if row.Stage == StagePreRelease && flags&flagPlanDrafted == 0 {
			a |= AttnNoPlanInWindow
		}
		if releaseDays != 0 && q.today > releaseDays {
			a |= AttnReleaseDatePassed
		}
	}
	if flags&flagHandoverOpen != 0 {
		a |= AttnHandoverOpen
		if q.now > handoverDue {
			a |= AttnHandoverOverdue
		}
	}
	for i := uint64(0); i < n; i++ {
		if int32(be.Uint32(rest[4*i:])) >= q.today {
			break // sorted: the rest are due later
		}
		row.OverdueActions++
	}
	if row.OverdueActions > 0 {
		a |= AttnActionsOverdue
	}
	if released && supervision != 0 && q.now > supervision {
		a |= AttnSupervisionEnded
	}
	if flags&flagRecallPending != 0 {
		a |= AttnRecallPending
	}
	if flags&flagAtLarge != 0 {
		a |= AttnUnlawfullyAtLarge
	}
	if flags&flagDatesToConfirm != 0 && (inCustody || flags&flagDetainedElsewhere != 0) {
		a |= AttnReleaseDatesToConfirm
	}
	for _, x := range [...]struct {
		flag uint16
		attn Attention
	}{{flagHandoverNeeded, AttnHandoverNeeded}, {flagHandoverRejected, AttnHandoverRejected},
		{flagHandoverOvertaken, AttnHandoverOvertaken}, {flagNoReleaseArea, AttnNoReleaseArea}} {
		if flags&x.flag != 0 {
			a |= x.attn
		}
	}
	row.Attention = a
	return nil
}
