// Package journeygen generates plausible journeys through custody and back into the
// community, deterministically from a seed: the histories the tests, the benchmarks and
// the demo data are made of. Every step is decided by the real aggregate, so a
// generated history is one the ledger itself would have recorded.
//
// Of ours it may import aggregates, eventlog and eventstore.
package journeygen

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gateledger/gateledger/aggregates"
)

// Actor is who records a step.
type Actor struct {
	UserID       string
	Role         string
	Organisation string
	Source       aggregates.Source
}

// Step is one command as it was recorded, with the events the aggregate decided.
type Step struct {
	Command aggregates.Command
	Actor   Actor
	At      time.Time
	Events  []aggregates.Event
}

// Journey is one person's generated history.
type Journey struct {
	NOMS  string
	Steps []Step
	// Final is the journey after every step.
	Final aggregates.Journey
	// Refused counts planned steps the aggregate refused (they are left out).
	Refused int
}

// EventCount is the number of events in the journey.
func (j Journey) EventCount() int {
	n := 0
	for _, s := range j.Steps {
		n += len(s.Events)
	}
	return n
}

// NOMS returns a prison number unique to index i (for i below 26*26*10000).
func NOMS(i int) string {
	return fmt.Sprintf("%c%04d%c%c", 'A'+rune(i/(26*26*10000)%26), i%10000, 'A'+rune(i/10000%26), 'A'+rune(i/260000%26))
}

// resettlementPrisons is a resettlement prison for each contract package area: where a
// person whose home is in that area spends the last weeks before release.
var resettlementPrisons = map[string]string{
	"C01": "DMI", "C02": "PNI", "C03": "HHI", "C04": "HMI", "C05": "LEI", "C06": "LPI", "C07": "MRI",
	"C08": "NMI", "C09": "DNI", "C10": "SWI", "C11": "BMI", "C12": "HEI", "C13": "BFI", "C14": "NWI",
	"C15": "BLI", "C16": "BNI", "C17": "PVI", "C18": "CDI", "C19": "EXI", "C20": "WCI", "C21": "EWI",
}

// localPrisons are where people are first received.
var localPrisons = []string{"MDI", "LEI", "SWI", "WSI", "WWI", "PVI", "BMI", "MRI", "LPI", "BLI", "EXI", "DMI", "NMI", "CFI", "EWI"}

// Areas lists the contract package areas, C01 to C21.
func Areas() []string {
	out := make([]string, 0, 21)
	for i := 1; i <= 21; i++ {
		out = append(out, fmt.Sprintf("C%02d", i))
	}
	return out
}

var pathways = []aggregates.Pathway{
	aggregates.PathwayAccommodation, aggregates.PathwayAttitudes, aggregates.PathwayChildrenFamilies,
	aggregates.PathwayDrugsAlcohol, aggregates.PathwayEducationWork, aggregates.PathwayFinanceID, aggregates.PathwayHealth,
}

var needText = map[aggregates.Pathway][2]string{
	aggregates.PathwayAccommodation:    {"No fixed address on release", "Refer to local authority housing options"},
	aggregates.PathwayAttitudes:        {"Thinking skills work started in custody", "Continue accredited programme in the community"},
	aggregates.PathwayChildrenFamilies: {"Wants contact with children", "Refer to family mediation service"},
	aggregates.PathwayDrugsAlcohol:     {"Opiate use before custody", "Book appointment with community drug service"},
	aggregates.PathwayEducationWork:    {"No qualifications, wants work", "Enrol on CSCS card course"},
	aggregates.PathwayFinanceID:        {"No bank account or ID", "Apply for birth certificate and open basic account"},
	aggregates.PathwayHealth:           {"Needs GP registration", "Register with GP near release address"},
}

// Generator makes journeys. Its zero value is not usable: use New.
type Generator struct {
	Seed   uint64
	Now    time.Time
	Span   time.Duration // receptions are spread over this long before Now
	Policy aggregates.Policy
}

// New returns a generator of journeys received up to span before now.
func New(seed uint64, now time.Time, span time.Duration, policy aggregates.Policy) *Generator {
	return &Generator{Seed: seed, Now: now.UTC(), Span: span, Policy: policy}
}

// builder decides steps one by one against the journey so far. Steps are recorded in
// time order: work that completes later (actions) is scheduled and recorded when the
// history reaches its time.
type builder struct {
	g     *Generator
	rng   *rand.Rand
	j     Journey
	last  time.Time
	later []scheduled
}

type scheduled struct {
	at    time.Time
	actor func() Actor
	cmd   aggregates.Command
}

func (b *builder) schedule(at time.Time, actor func() Actor, cmd aggregates.Command) {
	b.later = append(b.later, scheduled{at: at, actor: actor, cmd: cmd})
}

// flush records the scheduled steps due by t, earliest first.
func (b *builder) flush(t time.Time) {
	for {
		next := -1
		for i, s := range b.later {
			if !s.at.After(t) && (next < 0 || s.at.Before(b.later[next].at)) {
				next = i
			}
		}
		if next < 0 {
			return
		}
		s := b.later[next]
		b.later = append(b.later[:next], b.later[next+1:]...)
		b.record(s.at, s.actor(), s.cmd)
	}
}

func (b *builder) do(at time.Time, actor Actor, cmd aggregates.Command) bool {
	b.flush(at)
	return b.record(at, actor, cmd)
}

func (b *builder) record(at time.Time, actor Actor, cmd aggregates.Command) bool {
	if at.After(b.g.Now) || at.Before(b.last) {
		b.j.Refused++
		return false
	}
	evs, err := aggregates.Decide(b.j.Final, cmd, at.Add(time.Minute), b.g.Policy)
	if err != nil || len(evs) == 0 {
		b.j.Refused++
		return false
	}
	for _, ev := range evs {
		aggregates.Fold(&b.j.Final, ev)
	}
	b.j.Steps = append(b.j.Steps, Step{Command: cmd, Actor: actor, At: at, Events: evs})
	b.last = at
	return true
}

func (b *builder) chance(p float64) bool { return b.rng.Float64() < p }

func (b *builder) between(from time.Time, min, max time.Duration) time.Time {
	return from.Add(min + time.Duration(b.rng.Int64N(int64(max-min)+1)))
}

func prisonActor(code string) Actor {
	return Actor{UserID: "officer." + code, Role: "prison", Organisation: code, Source: aggregates.SourceUI}
}

func feedActor(code string) Actor {
	return Actor{UserID: "hmpps-feed", Role: "feed", Organisation: code, Source: aggregates.SourceHMPPSFeed}
}

// providerActor is someone at the probation organisation that holds the case, or is
// taking it over, or that the allocation policy names.
func (b *builder) providerActor() Actor {
	org := aggregates.ResponsibleFor(b.j.Final, b.last)
	if !org.IsProvider() {
		if h := b.j.Final.OpenHandover(); h != nil && h.To.IsProvider() {
			org = h.To
		} else {
			org = b.g.Policy.Allocation.Allocate(b.j.Final, b.last)
		}
	}
	return Actor{UserID: "po." + string(org), Role: "provider", Organisation: string(org), Source: aggregates.SourceAPI}
}

// Journey generates the i-th person's journey.
func (g *Generator) Journey(i int) Journey {
	b := &builder{g: g, rng: rand.New(rand.NewPCG(g.Seed, uint64(i)+1)), j: Journey{NOMS: NOMS(i)}}
	b.run()
	b.flush(g.Now)
	return b.j
}

func (b *builder) run() {
	g, rng := b.g, b.rng
	received := g.Now.Add(-time.Duration(rng.Int64N(int64(g.Span))))
	local := localPrisons[rng.IntN(len(localPrisons))]
	area := Areas()[rng.IntN(21)]
	kind := aggregates.ReceptionSentence
	if b.chance(0.15) {
		kind = aggregates.ReceptionRemand
	}
	if !b.do(received, feedActor(local), aggregates.ReceivePrisoner{NOMS: b.j.NOMS, Kind: kind, Prison: local, BookingID: fmt.Sprint(1000000 + rng.IntN(8999999)), At: received}) {
		return
	}
	// Screening part 1 within 72 hours, mostly; a few are late.
	screened := b.between(received, 2*time.Hour, 60*time.Hour)
	if b.chance(0.08) {
		screened = b.between(received, 80*time.Hour, 200*time.Hour)
	}
	b.do(received.Add(time.Hour), prisonActor(local), aggregates.ChangeReleaseArea{Area: area, At: received.Add(time.Hour)})
	b.do(screened, prisonActor(local), aggregates.CompleteScreening{At: screened})
	crnAt := b.between(screened, 2*time.Hour, 5*24*time.Hour)
	b.do(crnAt, prisonActor(local), aggregates.LinkCRN{CRN: fmt.Sprintf("%c%06d", 'A'+rune(rng.IntN(26)), rng.IntN(1000000)), At: crnAt})
	rosh := []aggregates.RoSH{aggregates.RoSHLow, aggregates.RoSHMedium, aggregates.RoSHMedium, aggregates.RoSHHigh, aggregates.RoSHLow, aggregates.RoSHMedium, aggregates.RoSHVeryHigh}[rng.IntN(7)]
	riskAt := b.between(crnAt, 2*time.Hour, 5*24*time.Hour)
	b.do(riskAt, prisonActor(local), aggregates.AssessRisk{Level: rosh, At: riskAt})
	if rosh == aggregates.RoSHHigh || rosh == aggregates.RoSHVeryHigh || b.chance(0.05) {
		b.do(riskAt.Add(time.Hour), prisonActor(local), aggregates.SetMAPPALevel{Level: 1 + rng.IntN(3), At: riskAt.Add(time.Hour)})
	}
	b.handover(riskAt.Add(2 * time.Hour))
	if kind == aggregates.ReceptionRemand && b.chance(0.3) {
		// Remand ending in release from court: a short journey.
		out := b.between(riskAt, 14*24*time.Hour, 90*24*time.Hour)
		b.do(out, feedActor(local), aggregates.RecordMovement{Kind: aggregates.MovementCourtOut, Prison: local, At: out})
		b.do(out.Add(6*time.Hour), feedActor(local), aggregates.ReleasePrisoner{Kind: aggregates.ReleaseDischarged, Prison: local, At: out.Add(6 * time.Hour)})
		return
	}
	// The sentence: 3 to 48 months. A sentence reception's details are recorded at
	// once; a remand prisoner who stays is sentenced without a new reception, which
	// starts the plan clock.
	months := 3 + rng.IntN(46)
	sentencedAt := received.Add(90 * time.Minute)
	if kind == aggregates.ReceptionRemand {
		sentencedAt = b.between(riskAt, 3*time.Hour, 20*24*time.Hour)
	}
	b.do(sentencedAt, prisonActor(local), aggregates.SentencePrisoner{Type: aggregates.SentenceDeterminate, LengthMonths: months,
		SentenceDate: aggregates.DateOf(sentencedAt), At: sentencedAt})
	// The plan, a few working days after screening (or the sentence).
	planned := b.between(riskAt, 24*time.Hour, 10*24*time.Hour)
	if planned.Before(sentencedAt) {
		planned = sentencedAt.Add(24 * time.Hour)
	}
	b.do(planned, b.providerActor(), aggregates.DraftPlan{Summary: "Resettlement plan agreed with " + b.j.NOMS, At: planned})
	actions := 0
	for k, p := range pathways {
		at := planned.Add(time.Duration(3*k+1) * time.Minute)
		switch r := rng.Float64(); {
		case r < 0.45:
			text := needText[p]
			b.do(at, b.providerActor(), aggregates.IdentifyNeed{Pathway: p, Description: text[0], At: at})
			id := fmt.Sprintf("%s-%d", p[:4], actions)
			due := aggregates.DateOf(at.Add(time.Duration(14+rng.IntN(60)) * 24 * time.Hour))
			if b.do(at.Add(time.Minute), b.providerActor(), aggregates.AgreeAction{ActionID: id, Pathway: p, Description: text[1], Due: due, At: at.Add(time.Minute)}) {
				owner := aggregates.Org(local)
				if b.chance(0.6) {
					owner = aggregates.Org(b.providerActor().Organisation)
				}
				b.do(at.Add(2*time.Minute), b.providerActor(), aggregates.AssignAction{ActionID: id, Owner: owner, At: at.Add(2 * time.Minute)})
				if b.chance(0.7) {
					done := b.between(at, 3*24*time.Hour, 80*24*time.Hour)
					b.schedule(done, b.providerActor, aggregates.CompleteAction{ActionID: id, Outcome: "Done: " + text[1], At: done})
				}
				actions++
			}
		case r < 0.8:
			b.do(at, b.providerActor(), aggregates.ChangePathwayStatus{Pathway: p, Status: aggregates.StatusSupportNotRequired, Reason: "No need identified at screening", At: at})
		case r < 0.9:
			b.do(at, b.providerActor(), aggregates.ChangePathwayStatus{Pathway: p, Status: aggregates.StatusSupportDeclined, Reason: "Declined support", At: at})
		}
	}
	// Release dates: released at the halfway point of the sentence.
	crd := sentencedAt.AddDate(0, months/2, rng.IntN(28))
	datesAt := b.between(planned, time.Hour, 10*24*time.Hour)
	b.do(datesAt, feedActor(local), aggregates.SetReleaseDates{Dates: aggregates.ReleaseDates{ConditionalRelease: aggregates.DateOf(crd)}, Reason: "Sentence calculated", At: datesAt})
	if b.chance(0.2) {
		crd = crd.AddDate(0, 0, -14+rng.IntN(40))
		changed := b.between(datesAt, 10*24*time.Hour, 40*24*time.Hour)
		b.do(changed, feedActor(local), aggregates.SetReleaseDates{Dates: aggregates.ReleaseDates{ConditionalRelease: aggregates.DateOf(crd)}, Reason: "Sentence recalculated", At: changed})
	}
	if b.chance(0.15) && crd.Sub(datesAt) > 60*24*time.Hour {
		out := b.between(datesAt, 20*24*time.Hour, crd.Sub(datesAt)/3)
		b.do(out, feedActor(local), aggregates.RecordMovement{Kind: aggregates.MovementCourtOut, Prison: local, At: out})
		b.do(out.Add(8*time.Hour), feedActor(local), aggregates.RecordMovement{Kind: aggregates.MovementCourtReturn, Prison: local, At: out.Add(8 * time.Hour)})
	}
	prison := local
	if rp := resettlementPrisons[area]; rp != local && crd.Sub(received) > 120*24*time.Hour {
		moved := crd.Add(-time.Duration(80+rng.IntN(10)) * 24 * time.Hour)
		b.do(moved, feedActor(local), aggregates.RecordMovement{Kind: aggregates.MovementTransferOut, Prison: local, At: moved})
		if b.do(moved.Add(4*time.Hour), feedActor(rp), aggregates.RecordMovement{Kind: aggregates.MovementTransferIn, Prison: rp, FromPrison: local, IntoResettlementPrison: true, At: moved.Add(4 * time.Hour)}) {
			prison = rp
		}
	}
	b.releaseAndSupervise(crd, prison, 0)
}

// handover asks the organisation the allocation policy names to take the case, and
// has it accepted (or once rejected and asked again).
func (b *builder) handover(at time.Time) {
	var to aggregates.Org
	if h := b.j.Final.OpenHandover(); h != nil {
		to = h.To
	} else if target, ok := b.j.Final.HandoverNeeded(b.g.Policy, at); ok {
		to = target
		if !b.do(at, prisonActor(b.j.Final.Prison), aggregates.RequestHandover{To: to, Reason: "Allocation at reception", Due: at.Add(5 * 24 * time.Hour), At: at}) {
			return
		}
	} else {
		return
	}
	decided := b.between(at, 4*time.Hour, 6*24*time.Hour)
	actor := Actor{UserID: "po." + string(to), Role: "provider", Organisation: string(to), Source: aggregates.SourceUI}
	if b.chance(0.07) {
		b.do(decided, actor, aggregates.RejectHandover{Reason: "Wrong area: address is outside our area", At: decided})
		again := decided.Add(2 * time.Hour)
		b.do(again, prisonActor(b.j.Final.Prison), aggregates.RequestHandover{To: to, Reason: "Re-referred after checking the address", Due: again.Add(5 * 24 * time.Hour), At: again})
		decided = b.between(again, 4*time.Hour, 3*24*time.Hour)
	}
	b.do(decided, actor, aggregates.AcceptHandover{At: decided})
}

func (b *builder) releaseAndSupervise(crd time.Time, prison string, recalls int) {
	rng := b.rng
	released := time.Date(crd.Year(), crd.Month(), crd.Day(), 9, rng.IntN(60), 0, 0, time.UTC)
	kind := aggregates.ReleaseOnLicence
	if b.chance(0.2) {
		kind = aggregates.ReleaseHDC
	}
	if !b.do(released, feedActor(prison), aggregates.ReleasePrisoner{Kind: kind, Prison: prison, At: released}) {
		return
	}
	if b.j.Final.OpenHandover() != nil {
		b.handover(released.Add(time.Hour))
	}
	if b.chance(0.4) {
		b.do(released.Add(15*time.Minute), b.providerActor(), aggregates.RecordMetAtGate{By: "Mentor from " + b.providerActor().Organisation, At: released.Add(15 * time.Minute)})
	}
	end := released.AddDate(1, 0, 0)
	reoffend := b.chance(0.3)
	offenceAt := b.between(released, 20*24*time.Hour, 340*24*time.Hour)
	for c := released.AddDate(0, 0, 7+rng.IntN(7)); c.Before(end); c = c.AddDate(0, 0, 21+rng.IntN(21)) {
		actor := b.providerActor()
		b.do(c, actor, aggregates.RecordSupervisionContact{By: aggregates.Org(actor.Organisation), Kind: "OFFICE_VISIT", Note: "Reported as required", At: c})
		if reoffend && c.After(offenceAt) {
			convicted := offenceAt.Add(time.Duration(30+rng.IntN(200)) * 24 * time.Hour)
			b.do(convicted, actor, aggregates.RecordProvenReoffence{Offence: "Theft from a shop", OffenceDate: aggregates.DateOf(offenceAt), ConvictionDate: aggregates.DateOf(convicted), At: convicted})
			reoffend = false
		}
		if recalls == 0 && b.chance(0.02) {
			b.do(c.Add(time.Hour), actor, aggregates.RecordBreach{Description: "Missed two appointments", At: c.Add(time.Hour)})
			if b.chance(0.5) && b.do(c.Add(2*time.Hour), actor, aggregates.RecallPrisoner{Reason: "Licence conditions breached", At: c.Add(2 * time.Hour)}) {
				back := c.Add(time.Duration(1+rng.IntN(10)) * 24 * time.Hour)
				if b.do(back, feedActor(prison), aggregates.ReceivePrisoner{NOMS: b.j.NOMS, Kind: aggregates.ReceptionRecall, Prison: prison, MovementReasonCode: "24", At: back}) {
					b.releaseAndSupervise(back.AddDate(0, 0, 28+rng.IntN(60)), prison, recalls+1)
					return
				}
			}
		}
	}
	b.do(end.Add(time.Hour), b.providerActor(), aggregates.CloseJourney{Reason: aggregates.CloseSupervisionEnded, At: end.Add(time.Hour)})
}
