package aggregates

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// chooser draws choices from fuzz bytes, or from a seeded PRNG.
type chooser struct {
	data []byte
	rng  *rand.Rand
}

func (c *chooser) intn(n int) int {
	if c.rng != nil {
		return c.rng.IntN(n)
	}
	if len(c.data) == 0 {
		return 0
	}
	b := c.data[0]
	c.data = c.data[1:]
	return int(b) % n
}

func (c *chooser) done() bool { return c.rng == nil && len(c.data) == 0 }

func pick[T any](c *chooser, xs ...T) T { return xs[c.intn(len(xs))] }

// randomCommand builds a plausible (and sometimes wrong) command near clock.
func randomCommand(c *chooser, clock time.Time) Command {
	at := clock.Add(time.Duration(c.intn(72)-8) * time.Hour) // sometimes in the past
	prison := pick(c, "MDI", "LEI", "SWI", "bad")
	org := pick[Org](c, "MDI", "C05", "C17", "N02", "NPS-C", "X")
	path := pick(c, PathwayAccommodation, PathwayHealth, PathwayFinanceID, "NOPE")
	date := DateOf(at).AddDays(c.intn(400) - 30)
	switch c.intn(27) {
	case 0:
		return ReceivePrisoner{NOMS: pick(c, noms, noms, "B1234CD"), Kind: pick(c, ReceptionRemand, ReceptionSentence, ReceptionRecall, ReceptionAdmission), Prison: prison, At: at}
	case 1:
		return RecordMovement{Kind: pick(c, MovementTemporaryAbsenceOut, MovementTemporaryAbsenceReturn, MovementCourtOut, MovementCourtReturn, MovementTransferOut, MovementTransferIn), Prison: prison, IntoResettlementPrison: c.intn(2) == 0, At: at}
	case 2:
		return ReleasePrisoner{Kind: pick(c, ReleaseOnLicence, ReleaseHDC, ReleaseSentenceEnd, ReleaseToHospital, ReleaseDischarged), Prison: prison, At: at}
	case 3:
		return CompleteScreening{At: at}
	case 4:
		return DraftPlan{Summary: pick(c, "plan", ""), At: at}
	case 5:
		return RevisePlan{Summary: "v", Reason: pick(c, "r", ""), At: at}
	case 6:
		return IdentifyNeed{Pathway: path, Description: "d", At: at}
	case 7:
		return ChangePathwayStatus{Pathway: path, Status: pick(c, StatusInProgress, StatusDone, StatusSupportDeclined, StatusSupportNotRequired, StatusNotStarted), Reason: pick(c, "", "because"), At: at}
	case 8:
		return AgreeAction{ActionID: pick(c, "a1", "a2"), Pathway: path, Description: "d", Due: date, At: at}
	case 9:
		return AssignAction{ActionID: pick(c, "a1", "a2"), Owner: org, At: at}
	case 10:
		return CompleteAction{ActionID: pick(c, "a1", "a2"), Outcome: "o", At: at}
	case 11:
		return SetReleaseDates{Dates: ReleaseDates{ConditionalRelease: date, HDCActual: pick(c, Date{}, date.AddDays(-20), date.AddDays(20))}, At: at}
	case 12:
		return NoteSentenceRecalculation{BookingID: "1", CalculationID: pick(c, "1", "2"), At: at}
	case 13:
		return RecordMetAtGate{By: "m", At: at}
	case 14:
		return RecordSupervisionContact{By: org, Kind: "OFFICE", At: at}
	case 15:
		return AssessRisk{Level: pick(c, RoSHLow, RoSHMedium, RoSHHigh, RoSHVeryHigh), At: at}
	case 16:
		return SetMAPPALevel{Level: c.intn(5) - 1, At: at}
	case 17:
		return RecordBreach{Description: "b", At: at}
	case 18:
		return RecallPrisoner{Reason: "r", At: at}
	case 19:
		return RecordProvenReoffence{Offence: "o", OffenceDate: DateOf(at).AddDays(-c.intn(60)), ConvictionDate: DateOf(at).AddDays(-c.intn(3)), At: at}
	case 20:
		return LinkCRN{CRN: pick(c, "X373878", "Y373878"), PNC: pick(c, "", "12/394773H"), At: at}
	case 21:
		return CorrectFact{CorrectsEventID: "3f2504e0-4f89-11d3-9a0c-0305e82c3301", Field: pick(c, FieldReceptionKind, FieldReleaseKind, FieldNote, FieldPrison), Value: pick(c, "RECALL", "HDC", "LEI"), Reason: "r", At: at}
	case 22:
		return CloseJourney{Reason: pick(c, CloseSupervisionEnded, CloseDied, CloseAdministrative), At: at.AddDate(0, c.intn(14), 0)}
	case 23:
		return RequestHandover{To: org, Reason: "r", At: at}
	case 24:
		return AcceptHandover{At: at}
	case 25:
		return RejectHandover{Reason: pick(c, "", "no"), At: at}
	default:
		return ChangeReleaseArea{Area: pick(c, "C05", "C10", "C17", "N01"), At: at}
	}
}

// checkInvariants reports the first broken invariant of a state.
func checkInvariants(j Journey) error {
	if j.Custody == NotReceived {
		if j.Version != 0 {
			return fmt.Errorf("events recorded without a reception")
		}
		return nil
	}
	if j.ReceivedAt.IsZero() || !ValidPrisonCode(j.Prison) || !ValidNOMS(j.NOMS) {
		return fmt.Errorf("received without time, prison or NOMS: %+v", j)
	}
	if j.Plan.Revision > 0 && (j.ScreenedAt.IsZero() || j.Plan.DraftedAt.Before(j.ScreenedAt)) {
		return fmt.Errorf("plan without screening")
	}
	if !j.ScreenedAt.IsZero() && j.ScreenedAt.Before(j.ReceivedAt) {
		return fmt.Errorf("screened before reception")
	}
	if j.Custody == Released && j.ReleasedAt.Before(j.ReceivedAt) {
		return fmt.Errorf("released before received")
	}
	if j.Custody == InCustody && !j.ReleasedAt.IsZero() {
		return fmt.Errorf("in custody with a release in this period")
	}
	if j.LastMovementAt.Before(j.ReceivedAt) {
		return fmt.Errorf("last movement before reception")
	}
	open := 0
	for i, h := range j.Handovers {
		if h.Seq != i+1 {
			return fmt.Errorf("handover seq %d at %d", h.Seq, i)
		}
		if h.Status == HandoverStatusOpen {
			open++
		}
		if h.From == h.To || h.Due.Before(h.RequestedAt) {
			return fmt.Errorf("bad handover %+v", h)
		}
	}
	if open > 1 {
		return fmt.Errorf("%d open handovers", open)
	}
	for p, s := range j.Pathways {
		if s.Status.NeedsReason() && s.Reason == "" {
			return fmt.Errorf("%s %s without reason", p, s.Status)
		}
	}
	for _, a := range j.Actions {
		if a.Completed() && a.CompletedAt.Before(a.AgreedAt) {
			return fmt.Errorf("action %s completed before agreed", a.ID)
		}
	}
	if j.Closed && j.ClosedAt.Before(j.ReceivedAt) {
		return fmt.Errorf("closed before reception")
	}
	if j.Responsible() == "" || !j.Responsible().Valid() {
		return fmt.Errorf("nobody responsible")
	}
	if d := j.ReleaseDates; !d.HDCActual.IsZero() && !d.ConditionalRelease.IsZero() && d.HDCActual.After(d.ConditionalRelease) {
		return fmt.Errorf("HDC after CRD")
	}
	return nil
}

// runSequence decides and folds random commands, checking every step.
func runSequence(t *testing.T, c *chooser, steps int) {
	t.Helper()
	p := pol
	clock := time.Date(2019, 1, 7, 9, 0, 0, 0, time.UTC)
	var j Journey
	var all []Event
	// Start with a reception most of the time so the sequence gets somewhere.
	if c.intn(4) > 0 {
		evs, err := Decide(j, ReceivePrisoner{NOMS: noms, Kind: ReceptionSentence, Prison: "MDI", At: clock}, clock, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			j = Evolve(j, ev)
		}
		all = append(all, evs...)
	}
	for i := 0; i < steps && !c.done(); i++ {
		clock = clock.Add(time.Duration(1+c.intn(24*20)) * time.Hour)
		cmd := randomCommand(c, clock)
		before := Rebuild(all)
		evs, err := Decide(j, cmd, clock, p)
		if !reflect.DeepEqual(before, j) {
			t.Fatalf("Decide changed its state argument on %#v", cmd)
		}
		if err != nil {
			if evs != nil {
				t.Fatalf("events and error from %#v", cmd)
			}
			continue
		}
		for _, ev := range evs {
			j = Evolve(j, ev)
			// Every produced event survives encode/decode unchanged.
			typ, data, err := Encode(ev)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decode(typ, ev.SchemaVersion(), data)
			if err != nil || !reflect.DeepEqual(back, ev) {
				t.Fatalf("round trip of %#v: %#v %v", ev, back, err)
			}
		}
		all = append(all, evs...)
		if err := checkInvariants(j); err != nil {
			t.Fatalf("after %#v -> %#v: %v", cmd, evs, err)
		}
	}
	if rebuilt := Rebuild(all); !reflect.DeepEqual(rebuilt, j) {
		t.Fatalf("Rebuild differs from step-by-step state\n%+v\n%+v", rebuilt, j)
	}
	if j.Version != len(all) {
		t.Fatalf("version %d for %d events", j.Version, len(all))
	}
}

func TestRandomCommandSequences(t *testing.T) {
	for seed := uint64(0); seed < 300; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			runSequence(t, &chooser{rng: rand.New(rand.NewPCG(seed, 42))}, 200)
		})
	}
}

func FuzzDecide(f *testing.F) {
	f.Add([]byte{1, 0, 3, 3, 4, 0, 2, 2})
	f.Add([]byte{3, 15, 3, 26, 1, 23, 0, 24})
	f.Fuzz(func(t *testing.T, data []byte) {
		runSequence(t, &chooser{data: data}, 1000)
	})
}
