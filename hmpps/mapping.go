package hmpps

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gateledger/gateledger/aggregates"
)

// Step is one journey command and the prison number whose journey it goes
// to. Most messages are one step; a merge writes to both numbers.
type Step struct {
	NOMS    string
	Command aggregates.Command
}

// message is what a mapping row reads of a well-formed event.
type message struct {
	Result
	info AdditionalInformation
	crn  string
}

// code is the NOMIS movement reason code, trimmed.
func (m message) code() string { return strings.TrimSpace(m.info.NomisMovementReasonCode) }

// Row is one row of the mapping from HMPPS messages to journey commands: the
// event type, the reasons and movement codes it covers, what the ledger
// records, and where that meaning comes from. Rows are tried in order; the
// first whose event type, reason and code match decides.
type Row struct {
	EventType string
	// Reasons the row covers; empty means any.
	Reasons []string
	// Codes are the NOMIS movement reason codes the row covers; empty means
	// any (including none).
	Codes []string
	// Records says in words what the ledger records.
	Records string
	// Source is where the meaning is taken from.
	Source string
	build  func(message) ([]Step, error)
}

func (r Row) matches(eventType, reason, code string) bool {
	return r.EventType == eventType &&
		(len(r.Reasons) == 0 || slices.Contains(r.Reasons, reason)) &&
		(len(r.Codes) == 0 || slices.Contains(r.Codes, code))
}

// Sources cited by the rows.
const (
	srcConsumer = "hmpps-probation-integration-services, prison-custody-status-to-delius: `application-prisoner-movement.yml`, `PrisonerMovement.kt`, `MovementReasonCodes.kt`"
	srcDevMsgs  = "the same project's `src/dev/resources/messages`"
	srcCatalog  = "HMPPS domain event catalogue (`shared/samples`)"
	srcDomain   = "domain.md, \"What a feed message means\""
	srcWelcome  = "hmpps-welcome-people-into-prison-api: movement reasons by imprisonment status"
)

// Release codes: NOMIS movement reason codes of a release into the community,
// by the kind of release. Codes not listed are not guessed at.
var (
	licenceCodes = []string{"NCS", "CR", "CE", "AR", "FR1", "FR2", "PX", "PD", "D1", "D2", "D3", "D4"}
	hdcCodes     = []string{"HD", "HE", "HR", "HU"}
	hospital     = []string{"HO", "HP", "HQ"}
	removal      = []string{"DD", "DE", "DL", "DEIRC", "ETR", "ECSLIRC"}
)

// Admission codes: the NOMIS movement reason code of an ADMISSION says
// whether it is a remand, a sentence or a recall.
var (
	recallCodes   = []string{"24", "B", "ELR", "ETB", "ETRLR", "ETRRIE", "H", "L", "PD", "R1", "Y"}
	remandCodes   = []string{"N", "V"}
	sentenceCodes = []string{"I", "W", "J", "P", "25", "26", "27", "29", "INTER"}
)

// IsRecallMovementCode reports whether a NOMIS movement reason code of an
// admission marks a recall.
func IsRecallMovementCode(code string) bool { return slices.Contains(recallCodes, code) }

// ReceptionKindOf is the kind of reception an ADMISSION is: by its movement
// reason code when the code says (recall, remand, sentence); else a recall
// when probableCause says so; else an admission recorded as unclassified,
// never guessed.
func ReceptionKindOf(code, probableCause string) aggregates.ReceptionKind {
	switch {
	case slices.Contains(recallCodes, code):
		return aggregates.ReceptionRecall
	case slices.Contains(remandCodes, code):
		return aggregates.ReceptionRemand
	case slices.Contains(sentenceCodes, code):
		return aggregates.ReceptionSentence
	case strings.EqualFold(strings.TrimSpace(probableCause), "RECALL"):
		return aggregates.ReceptionRecall
	}
	return aggregates.ReceptionAdmission
}

// Mapping is the table from HMPPS messages to journey commands. The README's
// table is generated from it (TestREADMEMappingTable).
var Mapping = []Row{
	{EventType: EventReleased, Reasons: []string{"RELEASED"}, Codes: []string{"DEC"},
		Records: "died in custody: `PrisonerDiedInCustody`, and the journey closes (reason DIED)",
		Source:  srcConsumer + " (DEC → Died); " + srcDevMsgs + " `prisoner-died.json`",
		build:   endCustody(aggregates.EndDied)},
	{EventType: EventReleased, Reasons: []string{"RELEASED"}, Codes: []string{"UAL", "UAL_ECL"},
		Records: "unlawfully at large: `PrisonerUnlawfullyAtLarge`; custody ends without a release, a recall is expected",
		Source:  srcConsumer + " (`isAbsconded`); " + srcDevMsgs + " `prisoner-absconded.json`",
		build:   endCustody(aggregates.EndUnlawfullyAtLarge)},
	{EventType: EventReleased, Reasons: []string{"RELEASED"}, Codes: []string{"MRG"},
		Records: "nothing: an administrative merge of records, not a movement",
		Source:  srcDomain + "; " + srcDevMsgs + " `prisoner-released-admin-merge.json`",
		build:   nothing("an administrative merge of NOMIS records (movement code MRG) is not a movement")},
	{EventType: EventReleased, Reasons: []string{"RELEASED_TO_HOSPITAL"},
		Records: "moved to a secure hospital: `PrisonerMovedToSecureHospital`; detention continues, not a release",
		Source:  srcConsumer + " (`isHospitalRelease`)",
		build:   endCustody(aggregates.EndSecureHospital)},
	{EventType: EventReleased, Reasons: []string{"RELEASED"}, Codes: hospital,
		Records: "moved to a secure hospital: `PrisonerMovedToSecureHospital` (a null `prisonId` means the prison holding the person)",
		Source:  srcConsumer + " (HO, HP, HQ); " + srcDevMsgs + " `prisoner-received-hospital-released.json`",
		build:   endCustody(aggregates.EndSecureHospital)},
	{EventType: EventReleased, Reasons: []string{"RELEASED"}, Codes: removal,
		Records: "moved to an immigration removal centre: `PrisonerMovedToRemovalCentre`; detention continues, not a release",
		Source:  srcConsumer + " (`isIrcRelease`: DD, DE, DL); " + srcDomain + " (ETR, ECSLIRC); " + srcDevMsgs + " `prisoner-received-irc-*.json`, `-etr-`, `-ecslirc-`",
		build:   endCustody(aggregates.EndRemovalCentre)},
	{EventType: EventReleased, Reasons: []string{"RELEASED"}, Codes: []string{"ECSL"},
		Records: "released on an end of custody supervised licence: `PrisonerReleased` kind ECSL",
		Source:  srcConsumer + " (ECSL → release type ECSL); " + srcDevMsgs + " `prisoner-released-ecsl-active.json`",
		build:   release(aggregates.ReleaseECSL)},
	{EventType: EventReleased, Reasons: []string{"RELEASED"}, Codes: hdcCodes,
		Records: "released on home detention curfew: `PrisonerReleased` kind HDC",
		Source:  srcDevMsgs + " `prisoner-released-hdc.json` (HD); HMPPS movement reason groupings (HE, HR, HU)",
		build:   release(aggregates.ReleaseHDC)},
	{EventType: EventReleased, Reasons: []string{"RELEASED"}, Codes: licenceCodes,
		Records: "released on licence: `PrisonerReleased` kind ON_LICENCE",
		Source:  srcDevMsgs + " `prisoner-released.json` (NCS); " + srcDomain + "; HMPPS movement reason groupings (conditional, automatic and parole release, release after recall, DTO)",
		build:   release(aggregates.ReleaseOnLicence)},
	{EventType: EventReleased, Reasons: []string{"RELEASED"}, Codes: []string{"BD"},
		Records: "discharged on immigration bail: `PrisonerReleased` kind DISCHARGED (no supervision)",
		Source:  "HMPPS movement reason groupings (BD → immigration bail)",
		build:   release(aggregates.ReleaseDischarged)},
	{EventType: EventReleased, Reasons: []string{"RELEASED"},
		Records: "dead-lettered, naming the code: a release code the ledger does not know is never taken for a discharge",
		Source:  srcDomain,
		build:   unmappedCode},
	{EventType: EventReleased, Reasons: []string{"TEMPORARY_ABSENCE_RELEASE"},
		Records: "temporary absence started (not a release)", Source: srcCatalog,
		build: movement(aggregates.MovementTemporaryAbsenceOut)},
	{EventType: EventReleased, Reasons: []string{"SENT_TO_COURT"},
		Records: "sent to court (not a release)", Source: srcCatalog,
		build: movement(aggregates.MovementCourtOut)},
	{EventType: EventReleased, Reasons: []string{"TRANSFERRED"},
		Records: "departed on transfer (not a release)", Source: srcCatalog,
		build: movement(aggregates.MovementTransferOut)},
	{EventType: EventReceived, Reasons: []string{"ADMISSION"},
		Records: "reception (`PrisonerReceived`): RECALL for codes " + strings.Join(recallCodes, ", ") + " or `probableCause` RECALL; REMAND for " +
			strings.Join(remandCodes, ", ") + "; SENTENCE for " + strings.Join(sentenceCodes, ", ") + "; otherwise ADMISSION (unclassified)",
		Source: srcWelcome + "; " + srcDomain + "; " + srcDevMsgs + " `prisoner-received*.json`",
		build:  reception},
	{EventType: EventReceived, Reasons: []string{"TEMPORARY_ABSENCE_RETURN"},
		Records: "returned from temporary absence", Source: srcCatalog,
		build: movement(aggregates.MovementTemporaryAbsenceReturn)},
	{EventType: EventReceived, Reasons: []string{"RETURN_FROM_COURT"},
		Records: "returned from court", Source: srcCatalog,
		build: movement(aggregates.MovementCourtReturn)},
	{EventType: EventReceived, Reasons: []string{"TRANSFERRED"},
		Records: "arrived on transfer", Source: srcCatalog,
		build: movement(aggregates.MovementTransferIn)},
	{EventType: EventSentenceDatesChanged,
		Records: "`SentenceRecalculated`: the release dates must be confirmed again (the message carries no dates)",
		Source:  srcCatalog + " `prison-offender-events.prisoner.sentence-dates-changed.yaml`; " + srcDomain,
		build:   recalculation},
	{EventType: EventMerged,
		Records: "`PrisonNumberAbsorbed` on `nomsNumber` and `PrisonNumberMerged` on `removedNomsNumber`: one person, both histories kept, the removed number refers to the remaining one",
		Source:  srcDomain + "; HMPPS consumers of `prisoner.merged` (`nomsNumber`, `removedNomsNumber`)",
		build:   merge("nomsNumber", "removedNomsNumber", func(i AdditionalInformation) (string, string) { return i.NOMSNumber, i.RemovedNOMSNumber })},
	{EventType: EventBookingMoved,
		Records: "as a merge, from `movedFromNomsNumber` to `movedToNomsNumber`",
		Source:  srcDomain + "; HMPPS consumers of `prisoner.booking.moved`",
		build: merge("movedToNomsNumber", "movedFromNomsNumber", func(i AdditionalInformation) (string, string) {
			return i.MovedToNOMSNumber, i.MovedFromNOMSNumber
		})},
	{EventType: EventIdentifierAdded,
		Records: "`CRNLinked`: the CRN in `personReference` linked to the prison number",
		Source:  srcConsumer + " (`probation-case.prison-identifier.added`); " + srcDomain,
		build:   linkCRN},
	{EventType: EventIdentifierUpdated,
		Records: "`CRNLinked`, as for `.added`",
		Source:  srcConsumer,
		build:   linkCRN},
}

// translate maps a well-formed consumed event by the first matching row.
func translate(m message) ([]Step, error) {
	reason := strings.TrimSpace(m.info.Reason)
	if reason == "" && (m.EventType == EventReceived || m.EventType == EventReleased) {
		return nil, malformedf("reason", "missing")
	}
	for _, row := range Mapping {
		if row.matches(m.EventType, reason, m.code()) {
			return row.build(m)
		}
	}
	return nil, &UnmappableError{EventType: m.EventType, Code: m.code(),
		Reason: fmt.Sprintf("reason %q is not one the ledger knows; nothing was recorded", reason)}
}

// prisonOf is the prison a release-type message names, "" when prisonId is
// null: hospital and removal-centre messages leave it out, and then it is
// the prison holding the person (aggregates decides).
func (m message) prisonOf() (string, error) {
	p := strings.TrimSpace(m.info.PrisonID)
	if p == "" {
		return "", nil
	}
	if err := aggregates.ValidateIdentifier("prison", p); err != nil {
		return "", malformed("prisonId", err)
	}
	return p, nil
}

// arrivalPrison is the prison a person arrives at: required.
func (m message) arrivalPrison() (string, error) {
	p, err := m.prisonOf()
	if err == nil && p == "" {
		return "", malformedf("prisonId", "missing: an arrival names the prison the person arrived at")
	}
	return p, err
}

func on(noms string, c aggregates.Command) []Step { return []Step{{NOMS: noms, Command: c}} }

func endCustody(k aggregates.CustodyEndKind) func(message) ([]Step, error) {
	return func(m message) ([]Step, error) {
		p, err := m.prisonOf()
		if err != nil {
			return nil, err
		}
		return on(m.NOMS, aggregates.EndCustody{Kind: k, Prison: p, MovementReasonCode: m.code(), At: m.OccurredAt}), nil
	}
}

func release(k aggregates.ReleaseKind) func(message) ([]Step, error) {
	return func(m message) ([]Step, error) {
		p, err := m.prisonOf()
		if err != nil {
			return nil, err
		}
		return on(m.NOMS, aggregates.ReleasePrisoner{Kind: k, Prison: p, MovementReasonCode: m.code(), At: m.OccurredAt}), nil
	}
}

func nothing(why string) func(message) ([]Step, error) {
	return func(m message) ([]Step, error) {
		return nil, &NothingToRecordError{EventType: m.EventType, Reason: why}
	}
}

func unmappedCode(m message) ([]Step, error) {
	if m.code() == "" {
		return nil, &UnmappableError{EventType: m.EventType, Reason: "reason RELEASED without a movement reason code: whether this was a release is not guessed"}
	}
	return nil, &UnmappableError{EventType: m.EventType, Code: m.code(),
		Reason: fmt.Sprintf("movement reason code %q is not one the ledger maps; it is not taken for a release until a person says what it means", m.code())}
}

func movement(k aggregates.MovementKind) func(message) ([]Step, error) {
	return func(m message) ([]Step, error) {
		in := k == aggregates.MovementTemporaryAbsenceReturn || k == aggregates.MovementCourtReturn || k == aggregates.MovementTransferIn
		prison := m.prisonOf
		if in {
			prison = m.arrivalPrison
		}
		// A movement out with prisonId null is from the prison holding the
		// person (aggregates decides).
		p, err := prison()
		if err != nil {
			return nil, err
		}
		return on(m.NOMS, aggregates.RecordMovement{Kind: k, Prison: p, At: m.OccurredAt}), nil
	}
}

func reception(m message) ([]Step, error) {
	p, err := m.arrivalPrison()
	if err != nil {
		return nil, err
	}
	kind := ReceptionKindOf(m.code(), m.info.ProbableCause)
	return on(m.NOMS, aggregates.ReceivePrisoner{NOMS: m.NOMS, Kind: kind, Prison: p, BookingID: m.bookingID(),
		MovementReasonCode: m.code(), At: m.OccurredAt}), nil
}

// bookingID is the booking id when it is well formed, else "" (it is
// informative on receptions, and a bad one must not lose the reception).
func (m message) bookingID() string {
	b := string(m.info.BookingID)
	if aggregates.ValidateIdentifier("bookingId", b) != nil {
		return ""
	}
	return b
}

func recalculation(m message) ([]Step, error) {
	info := m.info
	if info.BookingID != "" {
		if err := aggregates.ValidateIdentifier("bookingId", string(info.BookingID)); err != nil {
			return nil, malformed("bookingId", err)
		}
	}
	if info.SentenceCalculationID != "" {
		if err := aggregates.ValidateIdentifier("bookingId", string(info.SentenceCalculationID)); err != nil {
			return nil, malformed("sentenceCalculationId", err)
		}
	}
	return on(m.NOMS, aggregates.NoteSentenceRecalculation{BookingID: string(info.BookingID),
		CalculationID: string(info.SentenceCalculationID), At: m.OccurredAt}), nil
}

// merge writes the absorbed number to the remaining journey first, then the
// merge to the removed one: if the second fails, a redelivery repeats both
// and the first is already recorded.
func merge(keptField, goneField string, numbers func(AdditionalInformation) (kept, gone string)) func(message) ([]Step, error) {
	return func(m message) ([]Step, error) {
		kept, gone := numbers(m.info)
		if kept == "" {
			kept = m.NOMS
		}
		if err := aggregates.ValidateIdentifier("noms", kept); err != nil {
			return nil, malformed(keptField, err)
		}
		if err := aggregates.ValidateIdentifier("noms", gone); err != nil {
			return nil, malformed(goneField, err)
		}
		if kept == gone {
			return nil, malformedf(goneField, "%s is the number kept", gone)
		}
		b := m.bookingID()
		return []Step{
			{NOMS: kept, Command: aggregates.AbsorbPrisonNumber{NOMS: kept, From: gone, BookingID: b, At: m.OccurredAt}},
			{NOMS: gone, Command: aggregates.MergePrisonNumber{Into: kept, BookingID: b, At: m.OccurredAt}},
		}, nil
	}
}

func linkCRN(m message) ([]Step, error) {
	if m.crn == "" {
		return nil, malformedf("personReference", "no CRN identifier to link")
	}
	if err := aggregates.ValidateIdentifier("crn", m.crn); err != nil {
		return nil, malformed("personReference", err)
	}
	return on(m.NOMS, aggregates.LinkCRN{CRN: m.crn, At: m.OccurredAt}), nil
}

// MappingTable renders Mapping as the README's Markdown table.
func MappingTable() string {
	var b strings.Builder
	b.WriteString("| event type | reason | movement codes | the ledger records | source |\n|---|---|---|---|---|\n")
	for i, r := range Mapping {
		reasons, codes := "any", "any"
		if len(r.Reasons) > 0 {
			reasons = "`" + strings.Join(r.Reasons, "`, `") + "`"
		}
		if len(r.Codes) > 0 {
			codes = "`" + strings.Join(r.Codes, "`, `") + "`"
		} else if slices.ContainsFunc(Mapping[:i], func(p Row) bool {
			return p.EventType == r.EventType && slices.Equal(p.Reasons, r.Reasons) && len(p.Codes) > 0
		}) {
			codes = "any other"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", r.EventType, reasons, codes, r.Records, r.Source)
	}
	return b.String()
}
