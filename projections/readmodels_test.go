package projections

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/folds"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// Journeys used by several tests. Each records a realistic history through the
// command service and returns the person's prison number.

// planJourney: received at Moorland, screened, needs on two pathways (one declined),
// an action assigned to the NPS region (2024: CRCs no longer exist), release dates
// set; no plan yet.
func planJourney(w *world) string {
	const noms = "A1234BC"
	w.do(noms, "MDI", aggregates.ReceivePrisoner{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: "MDI", At: day(2024, 6, 3, 9)})
	w.do(noms, "MDI", aggregates.CompleteScreening{At: day(2024, 6, 4, 9)})
	w.do(noms, "MDI", aggregates.IdentifyNeed{Pathway: aggregates.PathwayAccommodation, Description: "no fixed abode", At: day(2024, 6, 4, 10)})
	w.do(noms, "MDI", aggregates.AgreeAction{ActionID: "acc-1", Pathway: aggregates.PathwayAccommodation,
		Description: "refer to housing", Due: date(2024, 6, 20), At: day(2024, 6, 4, 11)})
	w.do(noms, "MDI", aggregates.AssignAction{ActionID: "acc-1", Owner: "NPS-C", At: day(2024, 6, 4, 12)})
	w.do(noms, "MDI", aggregates.ChangePathwayStatus{Pathway: aggregates.PathwayFinanceID, Status: aggregates.StatusSupportDeclined,
		Reason: "has ID and a bank account", At: day(2024, 6, 4, 13)})
	w.do(noms, "MDI", aggregates.SetReleaseDates{Dates: aggregates.ReleaseDates{ConditionalRelease: date(2024, 9, 30)}, At: day(2024, 6, 5, 9)})
	return noms
}

// policyChangeJourney: received at Leeds in March 2021 under the split model, handed to
// the West Yorkshire CRC, released in July 2021 after probation unification, by which
// the case is NPS region C's (Yorkshire and the Humber) without a handover
// (aggregates.Successor); the region then hands it to region D (Wales): rejected
// once, then asked again.
func policyChangeJourney(w *world) string {
	const noms = "B2345CD"
	w.do(noms, "LEI", aggregates.ReceivePrisoner{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: "LEI", At: day(2021, 3, 1, 9)})
	w.do(noms, "LEI", aggregates.AssessRisk{Level: aggregates.RoSHLow, At: day(2021, 3, 2, 9)})
	w.do(noms, "LEI", aggregates.ChangeReleaseArea{Area: "C05", At: day(2021, 3, 10, 9)}) // requests LEI -> C05
	w.do(noms, "C05", aggregates.AcceptHandover{At: day(2021, 3, 12, 9)})
	w.do(noms, "LEI", aggregates.ReleasePrisoner{Kind: aggregates.ReleaseOnLicence, Prison: "LEI", At: day(2021, 7, 15, 9)})
	w.do(noms, "NPS-C", aggregates.RequestHandover{To: "NPS-D", Reason: "moving to Wales", At: day(2021, 7, 16, 9)})
	w.do(noms, "NPS-D", aggregates.RejectHandover{Reason: "no address in Wales yet", At: day(2021, 7, 19, 9)})
	w.do(noms, "NPS-C", aggregates.RequestHandover{To: "NPS-D", Reason: "moving to Wales: address confirmed", At: day(2021, 7, 20, 9)})
	return noms
}

// recallJourney: released to the London CRC in April 2019, reoffends, is recalled,
// released again in September 2019 and reoffends too late to count.
func recallJourney(w *world) string {
	const noms = "C3456DE"
	w.do(noms, "MDI", aggregates.ReceivePrisoner{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: "MDI", At: day(2019, 1, 10, 9)})
	w.do(noms, "MDI", aggregates.ChangeReleaseArea{Area: "C17", At: day(2019, 1, 11, 9)})
	w.do(noms, "C17", aggregates.AcceptHandover{At: day(2019, 1, 12, 9)})
	w.do(noms, "MDI", aggregates.ReleasePrisoner{Kind: aggregates.ReleaseOnLicence, Prison: "MDI", At: day(2019, 4, 1, 9)})
	w.do(noms, "C17", aggregates.RecallPrisoner{Reason: "further offence", At: day(2019, 6, 2, 9)})
	w.do(noms, "MDI", aggregates.ReceivePrisoner{NOMS: noms, Kind: aggregates.ReceptionRecall, Prison: "MDI", MovementReasonCode: "24", At: day(2019, 6, 5, 9)})
	w.do(noms, "C17", aggregates.RecordProvenReoffence{Offence: "theft", OffenceDate: date(2019, 5, 1), ConvictionDate: date(2019, 6, 1), At: day(2019, 6, 10, 9)})
	w.do(noms, "MDI", aggregates.ReleasePrisoner{Kind: aggregates.ReleaseOnLicence, Prison: "MDI", At: day(2019, 9, 1, 9)})
	w.do(noms, "C17", aggregates.RecordProvenReoffence{Offence: "burglary", OffenceDate: date(2020, 10, 1), ConvictionDate: date(2020, 11, 1), At: day(2020, 11, 5, 9)})
	return noms
}

// cohortPeer: released in the same quarter and area as recallJourney's first release,
// never reoffends; its handover to the CRC was never accepted.
func cohortPeer(w *world) string {
	const noms = "D4567EF"
	w.do(noms, "WSI", aggregates.ReceivePrisoner{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: "WSI", At: day(2019, 2, 1, 9)})
	w.do(noms, "WSI", aggregates.ChangeReleaseArea{Area: "C17", At: day(2019, 2, 2, 9)})
	w.do(noms, "WSI", aggregates.ReleasePrisoner{Kind: aggregates.ReleaseHDC, Prison: "WSI", At: day(2019, 5, 15, 9)})
	return noms
}

func TestPlanAfterAJourney(t *testing.T) {
	w := newWorld(t)
	noms := planJourney(w)
	w.sync(w.r)

	tests := []struct {
		name                string
		now                 time.Time
		overdue             []string
		actionOverdue, inPR bool
	}{
		{"plan due five working days after screening", day(2024, 6, 10, 9), []string{}, false, false},
		{"plan overdue after five working days", day(2024, 6, 11, 10), []string{"plan"}, false, false},
		{"action overdue after its due date", day(2024, 6, 21, 0), []string{"plan"}, true, false},
		{"pre-release window 84 days before release", day(2024, 7, 8, 0), []string{"plan"}, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Plan(w.r, noms, tc.now, w.policy)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(v.Overdue, tc.overdue) {
				t.Errorf("overdue = %v, want %v", v.Overdue, tc.overdue)
			}
			if got := v.Pathways[0].Actions[0].Overdue; got != tc.actionOverdue {
				t.Errorf("action overdue = %v, want %v", got, tc.actionOverdue)
			}
			if v.Deadlines.InPreReleaseWindow != tc.inPR {
				t.Errorf("in pre-release window = %v, want %v", v.Deadlines.InPreReleaseWindow, tc.inPR)
			}
		})
	}

	v, err := Plan(w.r, noms, day(2024, 6, 10, 9), w.policy)
	if err != nil {
		t.Fatal(err)
	}
	d := v.Deadlines
	if !d.Screening.Met || !d.Screening.Due.Equal(day(2024, 6, 6, 9)) || d.Plan.Met || !d.Plan.Due.Equal(day(2024, 6, 11, 9)) ||
		d.ReleaseDate != date(2024, 9, 30) || !d.PreReleaseWindowOpens.Equal(day(2024, 7, 8, 0)) || d.SupervisionEnds.Due.IsZero() == false {
		t.Fatalf("deadlines %+v", d)
	}
	if len(v.Pathways) != 7 || v.Pathways[0].Pathway != aggregates.PathwayAccommodation {
		t.Fatalf("pathways %+v", v.Pathways)
	}
	acc := v.Pathways[0]
	if acc.Status != aggregates.StatusSupportRequired || acc.Need != "no fixed abode" || len(acc.Actions) != 1 {
		t.Fatalf("accommodation %+v", acc)
	}
	a := acc.Actions[0]
	if a.Owner != "NPS-C" || a.Due != date(2024, 6, 20) || len(a.History) != 2 || a.History[1].Change != "owner nobody → NPS-C" ||
		a.History[1].Organisation != "MDI" || a.History[1].UserID != "user-MDI" || !a.History[1].OccurredAt.Equal(day(2024, 6, 4, 12)) ||
		a.History[1].RecordedAt.IsZero() || a.History[1].EventType != aggregates.TypeActionAssigned {
		t.Fatalf("action %+v", a)
	}
	fin := v.Pathways[5]
	if fin.Pathway != aggregates.PathwayFinanceID || fin.Status != aggregates.StatusSupportDeclined || fin.Reason != "has ID and a bank account" ||
		len(fin.History) != 1 {
		t.Fatalf("finance %+v", fin)
	}
	if v.Pathways[6].Status != aggregates.StatusNotStarted || len(v.Pathways[6].History) != 0 {
		t.Fatalf("health %+v", v.Pathways[6])
	}
	items := []string{}
	for _, h := range v.History {
		items = append(items, h.Item)
	}
	if !slices.Equal(items, []string{"custody", "screening", "releaseDates"}) {
		t.Fatalf("history items %v", items)
	}

	// When the plan is drafted, the plan deadline is met and its history says who.
	w.do(noms, "NPS-C", aggregates.DraftPlan{Summary: "housing first", At: day(2024, 6, 12, 9)})
	w.sync(w.r)
	v, err = Plan(w.r, noms, day(2024, 6, 12, 10), w.policy)
	if err != nil {
		t.Fatal(err)
	}
	last := v.History[len(v.History)-1]
	if v.Plan.Revision != 1 || v.Plan.Summary != "housing first" || !v.Deadlines.Plan.Met || len(v.Overdue) != 0 ||
		last.Item != "plan" || last.Organisation != "NPS-C" {
		t.Fatalf("after draft: plan %+v overdue %v history %+v", v.Plan, v.Overdue, last)
	}

	_, err = Plan(w.r, "Z9999ZZ", day(2024, 6, 12, 10), w.policy)
	var nf *NotFoundError
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &nf) || nf.Key != "Z9999ZZ" {
		t.Fatalf("unknown person: %v", err)
	}
}

func TestHandoversAcrossThe2021PolicyChange(t *testing.T) {
	w := newWorld(t)
	noms := policyChangeJourney(w)
	w.sync(w.r)
	now := day(2021, 7, 30, 9)

	type want struct {
		sending, receiving                []string // status/model per row, in queue order
		open, accepted, rejected, overdue int
	}
	rowsOf := func(rs []HandoverRow) []string {
		out := []string{}
		for _, r := range rs {
			s := string(r.Status) + "/" + string(r.Model)
			if r.Overdue {
				s += "/OVERDUE"
			}
			out = append(out, s)
		}
		return out
	}
	tests := []struct {
		org  string
		want want
	}{
		// Given the first handover was requested under the split model and accepted,
		{"LEI", want{sending: []string{"ACCEPTED/SPLIT_2014"}, receiving: []string{}, accepted: 1}},
		// then the CRC received it; from unification the region holds it without a
		// handover, and sent it to region D twice.
		{"C05", want{sending: []string{}, receiving: []string{"ACCEPTED/SPLIT_2014"}, accepted: 1}},
		{"NPS-C", want{sending: []string{"OPEN/UNIFIED_2021/OVERDUE", "REJECTED/UNIFIED_2021"}, receiving: []string{}, open: 1, rejected: 1, overdue: 1}},
		{"NPS-D", want{sending: []string{}, receiving: []string{"OPEN/UNIFIED_2021/OVERDUE", "REJECTED/UNIFIED_2021"}, open: 1, rejected: 1, overdue: 1}},
		{"C10", want{sending: []string{}, receiving: []string{}}},
	}
	for _, tc := range tests {
		t.Run(tc.org, func(t *testing.T) {
			q, err := Handovers(w.r, tc.org, now)
			if err != nil {
				t.Fatal(err)
			}
			got := want{rowsOf(q.Sending), rowsOf(q.Receiving), q.Open, q.Accepted, q.Rejected, q.Overdue}
			if !slices.Equal(got.sending, tc.want.sending) || !slices.Equal(got.receiving, tc.want.receiving) ||
				got.open != tc.want.open || got.accepted != tc.want.accepted || got.rejected != tc.want.rejected || got.overdue != tc.want.overdue {
				t.Fatalf("queue of %s = %+v, want %+v", tc.org, got, tc.want)
			}
		})
	}
	q, _ := Handovers(w.r, "NPS-D", now)
	open := q.Receiving[0]
	if open.NOMS != noms || open.Seq != 3 || open.Counterpart != "NPS-C" || open.Age != now.Sub(day(2021, 7, 20, 9)) ||
		!open.Due.Equal(day(2021, 7, 27, 9)) {
		t.Fatalf("open handover %+v", open)
	}
	if rej := q.Receiving[1]; rej.RejectReason != "no address in Wales yet" || rej.Age != 3*24*time.Hour {
		t.Fatalf("rejected handover %+v", rej)
	}

	// While the handover is open both regions see the case; the CRC, gone since
	// unification, and the prison no longer do.
	c05, _ := Caseload(w.r, "C05", now)
	npsc, _ := Caseload(w.r, "NPS-C", now)
	npsd, _ := Caseload(w.r, "NPS-D", now)
	lei, _ := Caseload(w.r, "LEI", now)
	if len(npsc) != 1 || npsc[0].Relation != RelResponsible|RelHandingOver || !npsc[0].Attention.Has(AttnHandoverOverdue) ||
		len(npsd) != 1 || npsd[0].Relation != RelReceiving || npsd[0].Stage != StageReleased || len(lei) != 0 || len(c05) != 0 {
		t.Fatalf("caseloads: C05 %+v NPS-C %+v NPS-D %+v LEI %+v", c05, npsc, npsd, lei)
	}
	w.checkVisibility(now, []string{noms}, []string{"LEI", "C05", "NPS-C", "NPS-D", "C10"})

	// When region D accepts, the row moves: deleted from region C, kept by region D.
	w.do(noms, "NPS-D", aggregates.AcceptHandover{At: day(2021, 7, 31, 9)})
	w.sync(w.r)
	now = day(2021, 8, 2, 9)
	npsc, _ = Caseload(w.r, "NPS-C", now)
	npsd, _ = Caseload(w.r, "NPS-D", now)
	if len(npsc) != 0 || len(npsd) != 1 || npsd[0].Relation != RelResponsible || npsd[0].Responsible != "NPS-D" || npsd[0].Attention != 0 {
		t.Fatalf("after accept: NPS-C %+v NPS-D %+v", npsc, npsd)
	}
	q, _ = Handovers(w.r, "NPS-C", now)
	if q.Open != 0 || q.Accepted != 1 || q.Rejected != 1 || !q.Sending[1].Late || q.Sending[1].Status != aggregates.HandoverStatusAccepted {
		t.Fatalf("NPS-C after accept: %+v", q)
	}
	w.checkVisibility(now, []string{noms}, []string{"LEI", "C05", "NPS-C", "NPS-D", "C10"})

	// The release after 26 June 2021 belongs to the region's cohort: payment follows
	// the model in force at release, not the CRC that held the case then.
	out, err := Outcomes(w.r, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Provider != "NPS-C" || out[0].Cohort != "2021-Q3" || out[0].Size != 1 || !out[0].Provisional {
		t.Fatalf("outcomes %+v", out)
	}
}

func TestRecallMidJourney(t *testing.T) {
	w := newWorld(t)
	noms := recallJourney(w)
	peer := cohortPeer(w)
	w.sync(w.r)

	// The recall reception starts a new custody period held by the same CRC; the
	// caseload shows the present holder, which since unification is the CRC's
	// region (aggregates.Journey.Responsible).
	now := day(2020, 12, 1, 9)
	npsj, err := Caseload(w.r, "NPS-J", now)
	if err != nil {
		t.Fatal(err)
	}
	row, ok := findRow(npsj, noms)
	if !ok || row.Stage != StageReleased || row.ReleasedAt != day(2019, 9, 1, 9) || row.Relation != RelResponsible ||
		!row.Attention.Has(AttnSupervisionEnded) {
		t.Fatalf("NPS-J row %+v (found %v)", row, ok)
	}
	c17, err := Caseload(w.r, "C17", now)
	if err != nil {
		t.Fatal(err)
	}
	// The peer's handover to the CRC is still open: the CRC sees it as receiving only.
	if r, ok := findRow(c17, peer); !ok || r.Relation != RelReceiving || r.Responsible != "WSI" || !r.Attention.Has(AttnHandoverOverdue) {
		t.Fatalf("peer row %+v (found %v)", r, ok)
	}
	v, err := Plan(w.r, noms, now, w.policy)
	if err != nil {
		t.Fatal(err)
	}
	var custody []string
	for _, h := range v.History {
		if h.Item == "custody" {
			custody = append(custody, h.Change)
		}
	}
	wantCustody := []string{"received (SENTENCE) at MDI", "released (ON_LICENCE) from MDI", "licence revoked: further offence",
		"received (RECALL) at MDI", "released (ON_LICENCE) from MDI"}
	if !slices.Equal(custody, wantCustody) {
		t.Fatalf("custody history %q", custody)
	}

	// Between recall and second release the person is in custody again.
	asAt, err := folds.AsAtPosition(context.Background(), w.store.Client, noms, positionOf(t, w.r, noms, aggregates.TypeProvenReoffenceRecorded, 0))
	if err != nil {
		t.Fatal(err)
	}
	if asAt.Custody != aggregates.InCustody || asAt.Recalls != 1 || asAt.Holder != "C17" {
		t.Fatalf("as at the first reoffence: %+v", asAt)
	}

	// Each release is one cohort membership; the reoffence counts against the first.
	tests := []struct {
		now  time.Time
		want []CohortOutcome
	}{
		{day(2020, 12, 1, 9), []CohortOutcome{
			{Provider: "C17", Cohort: "2019-Q2", Size: 2, Reoffenders: 1, Reoffences: 1, BinaryRate: 0.5, FrequencyRate: 1, Provisional: true},
			{Provider: "C17", Cohort: "2019-Q3", Size: 1, ExcludedReoffences: 1, Provisional: true},
		}},
		{day(2021, 1, 1, 0), []CohortOutcome{
			{Provider: "C17", Cohort: "2019-Q2", Size: 2, Reoffenders: 1, Reoffences: 1, BinaryRate: 0.5, FrequencyRate: 1},
			{Provider: "C17", Cohort: "2019-Q3", Size: 1, ExcludedReoffences: 1, Provisional: true},
		}},
	}
	for _, tc := range tests {
		out, err := Outcomes(w.r, tc.now)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != len(tc.want) {
			t.Fatalf("at %s: %+v", tc.now, out)
		}
		for i, got := range out {
			want := tc.want[i]
			if got.Provider != want.Provider || got.Cohort != want.Cohort || got.Size != want.Size || got.Reoffenders != want.Reoffenders ||
				got.Reoffences != want.Reoffences || got.ExcludedReoffences != want.ExcludedReoffences || got.BinaryRate != want.BinaryRate ||
				got.FrequencyRate != want.FrequencyRate || got.Provisional != want.Provisional {
				t.Errorf("at %s cohort %d = %+v, want %+v", tc.now, i, got, want)
			}
		}
	}
	if out, _ := Outcomes(w.r, now); out[0].Start != date(2019, 4, 1) || out[0].End != date(2019, 6, 30) || !out[0].FinalFrom.Equal(day(2021, 1, 1, 0)) {
		t.Fatalf("cohort bounds %+v", out[0])
	}
	w.checkVisibility(now, []string{noms, peer}, []string{"MDI", "WSI", "C17", "N07", "NPS-J"})
}

// positionOf is the $all position of the n-th event of a type in the person's trail.
func positionOf(t *testing.T, r *readmodel.Runner, noms, typ string, n int) uint64 {
	t.Helper()
	trail, err := Trail(r, noms)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range trail {
		if e.Type == typ {
			if n == 0 {
				return e.Position
			}
			n--
		}
	}
	t.Fatalf("no %s in the trail of %s", typ, noms)
	return 0
}

func TestCaseloadStagesAndAttention(t *testing.T) {
	w := newWorld(t)
	noms := planJourney(w)
	w.sync(w.r)
	tests := []struct {
		name      string
		now       time.Time
		stage     Stage
		attention Attention
		overdue   int
	}{
		{"custody, nothing due", day(2024, 6, 5, 10), StageCustody, 0, 0},
		{"plan overdue", day(2024, 6, 12, 9), StageCustody, AttnPlanOverdue, 0},
		{"action overdue too", day(2024, 6, 21, 9), StageCustody, AttnPlanOverdue | AttnActionsOverdue, 1},
		{"pre-release window without a plan", day(2024, 7, 8, 9), StagePreRelease, AttnPlanOverdue | AttnActionsOverdue | AttnNoPlanInWindow, 1},
		{"release date passed", day(2024, 10, 1, 9), StagePreRelease, AttnPlanOverdue | AttnActionsOverdue | AttnNoPlanInWindow | AttnReleaseDatePassed, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := Caseload(w.r, "MDI", tc.now)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1 {
				t.Fatalf("rows %+v", rows)
			}
			r := rows[0]
			if r.NOMS != noms || r.Stage != tc.stage || r.Attention != tc.attention || r.OverdueActions != tc.overdue ||
				r.Relation != RelResponsible|RelHolding || r.ReleaseDate != date(2024, 9, 30) || r.Prison != "MDI" {
				t.Fatalf("row %+v (attention %s), want stage %s attention %s", r, r.Attention, tc.stage, tc.attention)
			}
		})
	}
	// Screening overdue is visible before it is recorded.
	const late = "E5678FG"
	w.do(late, "MDI", aggregates.ReceivePrisoner{NOMS: late, Kind: aggregates.ReceptionRemand, Prison: "MDI", At: day(2024, 6, 3, 9)})
	w.do(late, "MDI", aggregates.AssessRisk{Level: aggregates.RoSHHigh, At: day(2024, 6, 3, 10)})
	w.do(late, "MDI", aggregates.SetMAPPALevel{Level: 2, At: day(2024, 6, 3, 11)})
	w.sync(w.r)
	rows, _ := Caseload(w.r, "MDI", day(2024, 6, 6, 10))
	r, ok := findRow(rows, late)
	if !ok || r.Attention != AttnScreeningOverdue || r.RoSH != aggregates.RoSHHigh || r.MAPPA != 2 {
		t.Fatalf("row %+v", r)
	}
	if got := r.Attention.String(); got != "SCREENING_OVERDUE" {
		t.Fatalf("attention %q", got)
	}
	if rows, err := Caseload(w.r, "C21", day(2024, 6, 6, 10)); err != nil || rows == nil || len(rows) != 0 {
		t.Fatalf("empty caseload: %v %v", rows, err)
	}
}

func TestAuditTrailAsAtAndVerification(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	noms := planJourney(w)
	w.do(noms, "C05", aggregates.DraftPlan{Summary: "tamper-me: housing first", At: day(2024, 6, 12, 9)})
	// A stream the ledger did not write (no envelope) is kept and does not break anything.
	other, err := w.store.Client.AppendToStream(context.Background(), "other-tool", esdb.AppendToStreamOptions{},
		esdb.EventData{EventID: uuid.New(), EventType: "Noted", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	w.last = max(w.last, other.CommitPosition)
	// A hash-chained stream the ledger writes that is not a journey, like the access log.
	chained, err := eventlog.Append(context.Background(), w.store.Client, "access-log-test", eventlog.Head{}, "k",
		[]eventlog.Proposed{{Type: "Read", Data: []byte(`{}`), Metadata: eventlog.Metadata{Metadata: aggregates.Metadata{
			UserID: "inspector-1", Role: "inspector", Organisation: "HMIP", Source: aggregates.SourceAPI, SchemaVersion: 1,
			OccurredAt: day(2024, 6, 12, 10), RecordedAt: day(2024, 6, 12, 10)}}}})
	if err != nil {
		t.Fatal(err)
	}
	w.last = max(w.last, chained.Position.Commit)
	w.sync(w.r)

	trail, err := Trail(w.r, noms)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := w.svc.LoadStream(context.Background(), noms)
	if err != nil {
		t.Fatal(err)
	}
	if len(trail) != len(stream.Events) || len(trail) != 8 {
		t.Fatalf("trail has %d events, stream %d", len(trail), len(stream.Events))
	}
	for i, e := range trail {
		s := stream.Events[i]
		m := s.Metadata
		if e.Revision != uint64(i) || e.EventID != s.ID || e.Type != s.Type || e.Position != s.Position.Commit ||
			e.UserID != m.UserID || e.Role != m.Role || e.Organisation != m.Organisation || !e.OccurredAt.Equal(m.OccurredAt) ||
			!e.RecordedAt.Equal(m.RecordedAt) || e.Source != m.Source || e.CorrelationID != m.CorrelationID ||
			e.IdempotencyKey != m.IdempotencyKey || e.Hash != m.Hash || e.PreviousHash != m.PreviousHash ||
			e.SchemaVersion != m.SchemaVersion || e.Command != m.Command || e.CausationID != m.CausationID ||
			!e.StoredAt.Equal(s.Created) || e.StoredAt.IsZero() || e.EnvelopeError != "" {
			t.Fatalf("entry %d = %+v\nstream %+v", i, e, s.Recorded)
		}
	}
	// Streams other than journeys (here one written by another tool) have no audit rows:
	// VerifyAll checks them in the store.
	for _, stream := range []string{"other-tool", "access-log-test"} {
		if tr, err := StreamTrail(w.r, stream); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: %+v %v, want not found", stream, tr, err)
		}
	}
	if _, err := Trail(w.r, "Z9999ZZ"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown person: %v", err)
	}

	// As at a moment or a position, the journey is what the first events made it.
	tests := []struct {
		name string
		at   func() (aggregates.Journey, error)
		n    int // events folded
	}{
		{"before anything", func() (aggregates.Journey, error) {
			return folds.AsAt(ctx, w.store.Client, noms, trail[0].RecordedAt.Add(-time.Second))
		}, 0},
		{"as at the 3rd event's recording", func() (aggregates.Journey, error) { return folds.AsAt(ctx, w.store.Client, noms, trail[2].RecordedAt) }, 3},
		{"as at the 5th event's position", func() (aggregates.Journey, error) {
			return folds.AsAtPosition(ctx, w.store.Client, noms, trail[4].Position)
		}, 5},
		{"now", func() (aggregates.Journey, error) { return folds.AsAt(ctx, w.store.Client, noms, time.Now()) }, 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.at()
			if err != nil {
				t.Fatal(err)
			}
			evs := make([]aggregates.Event, tc.n)
			for i := range evs {
				evs[i] = stream.Events[i].Event
			}
			want := aggregates.Rebuild(evs)
			want.NOMS = noms
			if got.Version != tc.n || got.Custody != want.Custody || got.ScreenedAt != want.ScreenedAt || len(got.Pathways) != len(want.Pathways) ||
				len(got.Actions) != len(want.Actions) || got.Plan != want.Plan {
				t.Fatalf("got %+v\nwant %+v", got, want)
			}
		})
	}

	if _, err := folds.AsAt(ctx, w.store.Client, "Z9999ZZ", time.Now()); !errors.Is(err, folds.ErrNoEvents) {
		t.Fatalf("as at for an unknown person: %v", err)
	}

	// The chain in the store verifies, and the audit rows agree with it.
	v, err := VerifyPerson(ctx, w.r, w.store.Client, noms)
	if err != nil || !v.OK() || v.Checked != 8 || v.Head != trail[7].Hash {
		t.Fatalf("verify: %+v %v", v, err)
	}
	all, err := VerifyAll(ctx, w.r, w.store.Client)
	if err != nil || !all.OK() || all.Streams != 2 || all.Events != 9 || all.Unchained != 1 {
		t.Fatalf("verify all: %+v %v", all, err)
	}
	var sound HistoryCheck
	sound.Run(ctx, w.r, w.store.Client, slog.New(slog.DiscardHandler))
	if state, ok := sound.Status(); !ok || state != "ok" {
		t.Fatalf("start-up check of a sound store: %s %v", state, ok)
	}
	if _, err := VerifyPerson(ctx, w.r, w.store.Client, "Z9999ZZ"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("verify an unknown person: %v", err)
	}

	// A changed audit row (the read model, not the store) is found, with its position.
	tamper(t, w.r, aggregates.StreamName(noms), 7, func(v []byte) []byte {
		e, err := decodeAudit(aggregates.StreamName(noms), v)
		if err != nil {
			t.Fatal(err)
		}
		e.Hash = strings.Repeat("0", 64)
		ev := readmodel.Event{Position: e.Position, Stream: e.Stream, Revision: e.Revision, ID: e.EventID, Type: e.Type, Recorded: e.StoredAt}
		ev.Envelope.SchemaVersion, ev.Envelope.UserID, ev.Envelope.Role, ev.Envelope.Organisation = e.SchemaVersion, e.UserID, e.Role, e.Organisation
		ev.Envelope.OccurredAt, ev.Envelope.RecordedAt, ev.Envelope.Source = e.OccurredAt, e.RecordedAt, e.Source
		ev.Envelope.CorrelationID, ev.Envelope.CausationID, ev.Envelope.IdempotencyKey = e.CorrelationID, e.CausationID, e.IdempotencyKey
		ev.Envelope.Command, ev.Envelope.Hash, ev.Envelope.PreviousHash = e.Command, e.Hash, e.PreviousHash
		return appendAudit(nil, &ev)
	})
	v, err = VerifyPerson(ctx, w.r, w.store.Client, noms)
	if err != nil || v.OK() || v.Break != nil || len(v.Mismatches) != 1 || v.Mismatches[0].Revision != 7 ||
		v.Mismatches[0].Reason != "hash differs" || v.Mismatches[0].Position != trail[7].Position || v.Mismatches[0].Expected != trail[7].Hash {
		t.Fatalf("after tampering with the audit row: %+v %v", v, err)
	}
	all, err = VerifyAll(ctx, w.r, w.store.Client)
	if err != nil || all.OK() || len(all.Breaks) != 0 || len(all.Mismatches) != 1 || all.Mismatches[0] != v.Mismatches[0] {
		t.Fatalf("verify all after tampering with the audit row: %+v %v", all, err)
	}

	// An event in the store whose bytes differ from what its hash covers (the 8th
	// event's envelope on changed data) breaks the chain there, with its position.
	forged := bytes.Replace(stream.Events[7].Data, []byte("tamper-me"), []byte("tamper-ME"), 1)
	var meta map[string]any
	if err := json.Unmarshal(stream.Events[7].RawMetadata, &meta); err != nil {
		t.Fatal(err)
	}
	meta["previousHash"] = trail[7].Hash
	rawMeta, _ := json.Marshal(meta)
	res, err := w.store.Client.AppendToStream(ctx, aggregates.StreamName(noms), esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(7)},
		esdb.EventData{EventID: uuid.New(), EventType: stream.Events[7].Type, ContentType: esdb.ContentTypeJson, Data: forged, Metadata: rawMeta})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.r.WaitFor(waitCtx(t), AuditName, res.CommitPosition); err != nil {
		t.Fatal(err)
	}
	v, err = VerifyPerson(ctx, w.r, w.store.Client, noms)
	if err != nil || v.Break == nil || v.Break.Revision != 8 || v.Break.Reason != "hash mismatch" || v.BreakPosition != res.CommitPosition ||
		v.Checked != 9 || v.Head != trail[7].Hash || len(v.Mismatches) != 1 {
		t.Fatalf("after forging an event: %+v %v", v, err)
	}
	all, err = VerifyAll(ctx, w.r, w.store.Client)
	if err != nil || len(all.Breaks) != 1 || all.Breaks[0].Stream != aggregates.StreamName(noms) ||
		!reflect.DeepEqual(all.Breaks[0].Verification, v.Verification) || all.Breaks[0].BreakPosition != res.CommitPosition ||
		len(all.Mismatches) != 1 || all.Events != 10 {
		t.Fatalf("verify all after forging an event: %+v %v", all, err)
	}
	// The start-up check sees it too, and keeps the ledger not ready.
	var h HistoryCheck
	if state, ok := h.Status(); ok || state != "verifying" {
		t.Fatalf("before the check: %s %v", state, ok)
	}
	h.Run(ctx, w.r, w.store.Client, slog.New(slog.DiscardHandler))
	if state, ok := h.Status(); ok || !strings.Contains(state, "damaged") || !strings.Contains(state, aggregates.StreamName(noms)) {
		t.Fatalf("after the check of a forged store: %s %v", state, ok)
	}
}

func TestUndecodableEventStopsOnlyTheReadModelsThatNeedIt(t *testing.T) {
	w := newWorld(t)
	noms := planJourney(w)
	w.sync(w.r)

	// Given an event of a schema version this code does not know on a journey stream,
	poison, err := w.store.Client.AppendToStream(context.Background(), aggregates.StreamName("F6789GH"), esdb.AppendToStreamOptions{},
		esdb.EventData{EventID: uuid.New(), EventType: aggregates.TypePrisonerReceived, ContentType: esdb.ContentTypeJson,
			Data: []byte(`{"nomsNumber":"F6789GH"}`), Metadata: []byte(`{"userId":"tool","source":"system","schemaVersion":99}`)})
	if err != nil {
		t.Fatal(err)
	}
	// when more events follow,
	w.do(noms, "C05", aggregates.DraftPlan{Summary: "after the poison", At: day(2024, 6, 12, 9)})

	// then the audit trail keeps everything, poison included,
	if err := w.r.WaitFor(waitCtx(t), AuditName, w.last); err != nil {
		t.Fatal(err)
	}
	tr, err := Trail(w.r, "F6789GH")
	if err != nil || len(tr) != 1 || tr[0].SchemaVersion != 99 {
		t.Fatalf("poison in the audit trail: %+v %v", tr, err)
	}
	if v, err := VerifyPerson(context.Background(), w.r, w.store.Client, "F6789GH"); err != nil || v.OK() || v.Break == nil || v.BreakPosition != poison.CommitPosition {
		t.Fatalf("poison verifies: %+v %v", v, err)
	}
	if _, err := folds.AsAt(context.Background(), w.store.Client, "F6789GH", time.Now()); !errors.Is(err, aggregates.ErrUnsupportedSchemaVersion) {
		t.Fatalf("as at the poison: %v", err)
	}
	// and each read model that needs the decoded event stops at it, naming it.
	for _, name := range []string{PlansName, HandoversName, CaseloadName, OutcomesName} {
		var ae *readmodel.ApplyError
		err := w.r.WaitFor(waitCtx(t), name, w.last)
		if !errors.As(err, &ae) || ae.Position != poison.CommitPosition || ae.EventType != aggregates.TypePrisonerReceived ||
			!errors.Is(err, aggregates.ErrUnsupportedSchemaVersion) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func TestSameBytesWhateverTheBatchSize(t *testing.T) {
	w := newWorld(t)
	people := []string{planJourney(w), policyChangeJourney(w), recallJourney(w), cohortPeer(w)}
	w.sync(w.r)
	w.checkVisibility(day(2024, 1, 1, 0), people, []string{"MDI", "LEI", "WSI", "C05", "C17", "NPS-C", "N07"})

	// The live runner applied the events as they came, in small batches; rebuild them
	// from zero one event at a time and in batches of three, and compare every byte.
	for _, batch := range []int{1, 3} {
		r := w.runner(filepath.Join(t.TempDir(), "rebuild.db"), batch)
		stop := run(t, r)
		w.sync(r)
		stop()
		for _, p := range All(w.policy) {
			live, rebuilt := dump(t, w.r, p.Name()), dump(t, r, p.Name())
			if live == "" || live != rebuilt {
				t.Errorf("%s in batches of %d differs from live state:\n%s\n---\n%s", p.Name(), batch, rebuilt, live)
			}
		}
	}
}

// TestStateDoesNotDependOnBatching: every read model's state, audit and plan history
// chunks included, is the same bytes whether events are applied one, a few or thousands
// per transaction, across chunk boundaries; and every stream's trail reads back whole and
// in revision order.
func TestStateDoesNotDependOnBatching(t *testing.T) {
	evs := genEvents(t, 3000)
	perStream := map[string]uint64{}
	for i := range evs {
		perStream[evs[i].Stream]++
	}
	var want []string
	for _, batch := range []int{len(evs), 1, 7, 16, 100} {
		r, err := readmodel.Open(filepath.Join(t.TempDir(), "projections.db"), nil, quiet(), All(testPolicy())...)
		if err != nil {
			t.Fatal(err)
		}
		applyFolded(t, r, evs, batch)
		var dump []string
		for _, st := range r.Status() {
			err = r.Dump(st.Name, func(path [][]byte, k, v []byte) {
				dump = append(dump, fmt.Sprintf("%s %q %q %x", st.Name, path, k, v))
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if want == nil {
			want = dump
		} else if !slices.Equal(dump, want) {
			t.Fatalf("batches of %d: state differs from one batch (%d and %d values)", batch, len(dump), len(want))
		}
		for stream, n := range perStream {
			trail, err := StreamTrail(r, stream)
			if err != nil {
				t.Fatal(err)
			}
			if uint64(len(trail)) != n {
				t.Fatalf("batches of %d: %s has %d rows, want %d", batch, stream, len(trail), n)
			}
			for i, e := range trail {
				if e.Revision != uint64(i) || e.Stream != stream {
					t.Fatalf("batches of %d: row %d of %s is %s@%d", batch, i, stream, e.Stream, e.Revision)
				}
			}
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestChunkCorrupt(t *testing.T) {
	row := []byte{auditRowVersion, 0, 0, 0, 0, 0, 0, 0, 1, 5}
	good := append([]byte{byte(len(row))}, row...)
	tests := []struct {
		name  string
		chunk []byte
		rows  int
		err   bool
	}{
		{name: "empty", chunk: nil},
		{name: "one row", chunk: good, rows: 1},
		{name: "two rows", chunk: append(slices.Clone(good), good...), rows: 2},
		{name: "length beyond the end", chunk: good[:len(good)-1], err: true},
		{name: "unterminated length", chunk: []byte{0x80}, err: true},
		{name: "a good row then a truncated one", chunk: append(slices.Clone(good), good[:3]...), rows: 1, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			err := readmodel.EachEntry(tt.chunk, func(r []byte) error {
				if rev, ok := auditRowRevision(r); !ok || rev != 5 {
					t.Fatalf("row revision %d %v", rev, ok)
				}
				n++
				return nil
			})
			if n != tt.rows || (err != nil) != tt.err || (err != nil && !errors.Is(err, readmodel.ErrCorruptRow)) {
				t.Fatalf("rows %d err %v; want %d rows, error %v", n, err, tt.rows, tt.err)
			}
		})
	}
}
