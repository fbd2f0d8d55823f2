package journeygen

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/calendar"
)

// The invariant of issue 13, as a property: at every moment of every journey
// exactly one organisation is responsible (aggregates.Journey.Responsible, the
// one function the plan, the caseload and the authorisation policy call); it
// exists at that date; it is of a kind that may hold the case at that stage
// (the prison holding the person in custody, at large or detained elsewhere,
// or a probation organisation; after a release, probation, or the releasing
// prison only while the case shows that it needs attention or a handover is
// open); and the authorisation policy lets it read the journey and send the
// commands that route the case on. It is checked after every event of
// generated journeys (the split and the unified models, and unification
// between them), each followed by a random command sequence that walks the
// refusal paths: handovers to organisations that do not exist or do not hold
// the person, releases before receptions, releases with no area, escalations
// while a handover is open, rejections, recalls, custody ends, closures.
func TestOneResponsibleOrganisationThatCanAct(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 300
	}
	pol := aggregates.DefaultPolicy(calendar.New(time.UTC))
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	g := New(13, now, 10*365*24*time.Hour, pol)
	events, refused, accepted := 0, map[string]int{}, 0
	for i := range n {
		gj := g.Journey(i)
		var j aggregates.Journey
		var latest time.Time
		for _, s := range gj.Steps {
			for _, ev := range s.Events {
				j = aggregates.Evolve(j, ev)
				if ev.OccurredAt().After(latest) {
					latest = ev.OccurredAt()
				}
				events++
				checkInvariant(t, gj.NOMS, j, latest, pol)
			}
		}
		rng := rand.New(rand.NewPCG(99, uint64(i)))
		clock := latest
		for range 30 {
			clock = clock.Add(time.Duration(1+rng.IntN(72*60)) * time.Minute)
			cmd := randomCommand(rng, gj.NOMS, j, clock)
			evs, err := aggregates.Decide(j, cmd, clock.Add(time.Hour), pol)
			if err != nil {
				refused[ruleOf(err)]++
				continue
			}
			accepted++
			for _, ev := range evs {
				j = aggregates.Evolve(j, ev)
				if ev.OccurredAt().After(latest) {
					latest = ev.OccurredAt()
				}
				events++
				checkInvariant(t, gj.NOMS, j, latest, pol)
			}
			if t.Failed() {
				t.Fatalf("journey %d after %s", i, cmd.CommandName())
			}
		}
	}
	// The refusal paths the issue names were walked.
	for _, r := range []string{"prison-must-hold-person", "organisation-must-exist", "one-open-handover", "before-first-reception",
		"community-needs-probation", "release-area-must-exist"} {
		if refused[r] == 0 {
			t.Errorf("refusal %q never met: %v", r, refused)
		}
	}
	t.Logf("%d journeys, %d events checked; %d random commands accepted, refusals %v", n, events, accepted, refused)
}

func ruleOf(err error) string {
	var re *aggregates.RuleError
	if asRule(err, &re) {
		return re.Rule
	}
	return "identifier"
}

// checkInvariant checks the journey as it stands after an event dated up to
// latest.
func checkInvariant(t *testing.T, noms string, j aggregates.Journey, latest time.Time, pol aggregates.Policy) {
	t.Helper()
	if j.Custody == aggregates.NotReceived || j.MergedInto != "" {
		return
	}
	org := j.Responsible()
	at := aggregates.ResponsibleFor(j, latest)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s (%s, closed %v, holder %q, area %q, handovers %+v): %s", noms, j.Custody, j.Closed, j.Holder, j.ReleaseArea, j.Handovers, fmt.Sprintf(format, args...))
	}
	if org == "" || at == "" {
		fail("no responsible organisation (now %q, at %s %q)", org, latest, at)
		return
	}
	if !aggregates.OrgExistsOn(org, aggregates.DateOf(time.Now())) {
		fail("%s is responsible now and does not exist", org)
	}
	if !aggregates.OrgExistsOn(at, aggregates.DateOf(latest)) {
		fail("%s is responsible on %s and does not exist then", at, aggregates.DateOf(latest))
	}
	kind := org.Kind()
	if kind != aggregates.OrgPrison && !org.IsProvider() {
		fail("%s is neither a prison nor a probation organisation", org)
	}
	switch j.Custody {
	case aggregates.InCustody, aggregates.UnlawfullyAtLarge, aggregates.DetainedElsewhere:
		if kind == aggregates.OrgPrison && string(org) != j.Prison {
			fail("prison %s is responsible but %s holds the person", org, j.Prison)
		}
	case aggregates.Released:
		if kind == aggregates.OrgPrison && !j.Closed && j.SupervisionAfterRelease(pol).Runs && j.OpenHandover() == nil && !j.Needs(pol).Any() {
			fail("prison %s holds a released person's case and nothing says it needs attention", org)
		}
	}
	p := auth.Principal{ID: "token:" + string(org), Role: auth.RoleProvider, Org: string(org)}
	if kind == aggregates.OrgPrison {
		p.Role = auth.RolePrison
	}
	if !auth.CanReadJourney(p, j) {
		fail("%s is responsible and may not read the journey", org)
	}
	if j.Closed {
		return
	}
	for _, cmd := range []aggregates.Command{aggregates.RequestHandover{To: "NPS-A", Reason: "r", At: latest},
		aggregates.ChangeReleaseArea{Area: "C05", At: latest}} {
		if err := auth.CanCommand(p, j, cmd); err != nil {
			fail("%s is responsible and may not %s: %v", org, cmd.CommandName(), err)
		}
	}
}

// randomCommand is a plausible, often wrong, command at clock.
func randomCommand(rng *rand.Rand, noms string, j aggregates.Journey, clock time.Time) aggregates.Command {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	org := aggregates.Org(pick("ZZZ", "LEI", "MDI", j.Prison, "C05", "C17", "N02", "NPS-C", "NPS-J", "NPS-D"))
	at := clock
	if rng.IntN(10) == 0 {
		at = j.FirstReceivedAt.Add(-time.Duration(1+rng.IntN(1000)) * time.Hour) // before the first reception
	}
	switch rng.IntN(16) {
	case 0:
		return aggregates.ReceivePrisoner{NOMS: noms, Kind: aggregates.ReceptionKind(pick("REMAND", "SENTENCE", "RECALL", "ADMISSION")), Prison: pick("MDI", "LEI", j.Prison), At: at}
	case 1, 2:
		return aggregates.ReleasePrisoner{Kind: aggregates.ReleaseKind(pick("ON_LICENCE", "HDC", "DISCHARGED", "SENTENCE_END")), Prison: pick("", j.Prison, "LEI"), At: at}
	case 3, 4:
		return aggregates.RequestHandover{To: org, Reason: "random", At: at}
	case 5:
		return aggregates.AcceptHandover{At: at}
	case 6:
		return aggregates.RejectHandover{Reason: "no", At: at}
	case 7, 8:
		return aggregates.ChangeReleaseArea{Area: pick("C05", "C17", "C10", "NPS-D", "NPS-J", "X01"), At: at}
	case 9:
		return aggregates.AssessRisk{Level: aggregates.RoSH(pick("LOW", "MEDIUM", "HIGH", "VERY_HIGH")), At: at}
	case 10:
		return aggregates.SetMAPPALevel{Level: rng.IntN(4), At: at}
	case 11:
		return aggregates.EndCustody{Kind: aggregates.CustodyEndKind(pick("UNLAWFULLY_AT_LARGE", "SECURE_HOSPITAL", "IMMIGRATION_REMOVAL_CENTRE", "DIED")), At: at}
	case 12:
		return aggregates.RecallPrisoner{Reason: "breach", At: at}
	case 13:
		return aggregates.CloseJourney{Reason: aggregates.CloseReason(pick("SUPERVISION_ENDED", "ADMINISTRATIVE")), At: at}
	case 14:
		return aggregates.SentencePrisoner{Type: aggregates.SentenceType(pick("DETERMINATE", "INDETERMINATE", "DTO")), LengthMonths: rng.IntN(80), SentenceDate: aggregates.DateOf(at), At: at}
	default:
		if rng.IntN(2) == 0 {
			return aggregates.RecordMovement{Kind: aggregates.MovementTransferOut, Prison: j.Prison, At: at}
		}
		return aggregates.RecordMovement{Kind: aggregates.MovementTransferIn, Prison: pick("LEI", "SWI"), At: at}
	}
}

func asRule(err error, target **aggregates.RuleError) bool { return errors.As(err, target) }
