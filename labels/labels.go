package labels

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"unicode"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/projections"
)

// Keys of the table for codes stored as plain strings: the type says which
// list a code belongs to, so "RELEASED" the stage and "RELEASE" the handover
// reason never collide.
type (
	eventType      string
	handoverReason string
)

// table is the one table of labels: every key is a typed code (a constant
// of aggregates, projections or auth, or one of the key types above), every
// value what people read. Labels are sentence case, GOV.UK style; acronyms
// keep their capitals.
var table = map[any]string{
	// Custody status (aggregates.CustodyStatus); the zero value is "not received".
	aggregates.NotReceived:       "Not received",
	aggregates.InCustody:         "In custody",
	aggregates.Released:          "Released",
	aggregates.UnlawfullyAtLarge: "Unlawfully at large",
	aggregates.DetainedElsewhere: "Detained elsewhere",
	aggregates.Died:              "Died in custody",

	// Reception kinds.
	aggregates.ReceptionRemand:    "Remand",
	aggregates.ReceptionSentence:  "Sentence",
	aggregates.ReceptionRecall:    "Recall",
	aggregates.ReceptionAdmission: "Admission",

	// Release kinds.
	aggregates.ReleaseOnLicence:   "On licence",
	aggregates.ReleaseHDC:         "Home detention curfew (HDC)",
	aggregates.ReleaseSentenceEnd: "At sentence end",
	aggregates.ReleaseECSL:        "End of custody supervised licence (ECSL)",
	aggregates.ReleaseToHospital:  "To a secure hospital",
	aggregates.ReleaseDischarged:  "Discharged",

	// Custody end kinds.
	aggregates.EndUnlawfullyAtLarge: "Unlawfully at large",
	aggregates.EndDied:              "Died in custody",
	aggregates.EndSecureHospital:    "Secure hospital",
	aggregates.EndRemovalCentre:     "Immigration removal centre",

	// Movements and where someone in custody is away to.
	aggregates.MovementTemporaryAbsenceOut:    "Temporary absence out",
	aggregates.MovementTemporaryAbsenceReturn: "Return from temporary absence",
	aggregates.MovementCourtOut:               "Out to court",
	aggregates.MovementCourtReturn:            "Return from court",
	aggregates.MovementTransferOut:            "Transfer out",
	aggregates.MovementTransferIn:             "Transfer in",
	aggregates.AwayNone:                       "In the prison",
	aggregates.AwayTemporaryAbsence:           "Temporary absence",
	aggregates.AwayCourt:                      "At court",
	aggregates.AwayTransfer:                   "In transfer",

	// Resettlement pathways, as HMPPS writes them.
	aggregates.PathwayAccommodation:    "Accommodation",
	aggregates.PathwayAttitudes:        "Attitudes, thinking and behaviour",
	aggregates.PathwayChildrenFamilies: "Children, families and community",
	aggregates.PathwayDrugsAlcohol:     "Drugs and alcohol",
	aggregates.PathwayEducationWork:    "Education, skills and work",
	aggregates.PathwayFinanceID:        "Finance and ID",
	aggregates.PathwayHealth:           "Health",

	// Pathway statuses.
	aggregates.StatusNotStarted:         "Not started",
	aggregates.StatusSupportRequired:    "Support required",
	aggregates.StatusInProgress:         "In progress",
	aggregates.StatusSupportNotRequired: "Support not required",
	aggregates.StatusSupportDeclined:    "Support declined",
	aggregates.StatusDone:               "Done",

	// Risk of serious harm.
	aggregates.RoSH(""):     "Not assessed",
	aggregates.RoSHLow:      "Low",
	aggregates.RoSHMedium:   "Medium",
	aggregates.RoSHHigh:     "High",
	aggregates.RoSHVeryHigh: "Very high",

	// Close reasons.
	aggregates.CloseSupervisionEnded: "Supervision ended",
	aggregates.CloseDied:             "Died",
	aggregates.CloseDeported:         "Deported",
	aggregates.CloseAdministrative:   "Closed by an administrator",

	// Handovers.
	aggregates.HandoverStatusOpen:                           "Open",
	aggregates.HandoverStatusAccepted:                       "Accepted",
	aggregates.HandoverStatusRejected:                       "Rejected",
	handoverReason(aggregates.HandoverReasonRiskEscalation): "Risk of serious harm rose",
	handoverReason(aggregates.HandoverReasonMAPPA):          "MAPPA level set",
	handoverReason(aggregates.HandoverReasonReleaseArea):    "Release area changed",
	handoverReason(aggregates.HandoverReasonRelease):        "Release",
	projections.Sending:                                     "Sending",
	projections.Receiving:                                   "Receiving",

	// Organisations and allocation models.
	aggregates.OrgUnknown:       "Unknown",
	aggregates.OrgPrison:        "Prison",
	aggregates.OrgCRC:           "Community rehabilitation company (CRC)",
	aggregates.OrgNPSDivision:   "National Probation Service (NPS) division",
	aggregates.OrgNPSRegion:     "Probation region",
	aggregates.ModelSplit2014:   "CRC and NPS (2014 to 2021)",
	aggregates.ModelUnified2021: "Unified probation service (from 2021)",

	// Where an event came from.
	aggregates.SourceAPI:       "API",
	aggregates.SourceUI:        "Web pages",
	aggregates.SourceHMPPSFeed: "HMPPS feed",
	aggregates.SourceSystem:    "The ledger itself",

	// Roles.
	auth.RolePrison:    "Prison staff",
	auth.RoleProvider:  "Probation provider",
	auth.RoleInspector: "Inspector",
	auth.RoleFeed:      "HMPPS feed",
	auth.RoleAdmin:     "Administrator",

	// Stages of a journey (projections.Stage).
	projections.StageCustody:           "Custody",
	projections.StagePreRelease:        "Pre-release window",
	projections.StageReleased:          "Released",
	projections.StageClosed:            "Closed",
	projections.StageAtLarge:           "Unlawfully at large",
	projections.StageDetainedElsewhere: "Detained elsewhere",

	// Why an organisation sees a person (projections.Relation, one bit each).
	projections.RelResponsible: "Responsible",
	projections.RelHandingOver: "Handing over",
	projections.RelReceiving:   "Receiving",
	projections.RelHolding:     "Holding in custody",

	// Event types: what happened, in words.
	eventType(aggregates.TypePrisonerReceived):              "Received into custody",
	eventType(aggregates.TypeCustodyScreeningCompleted):     "Custody screening completed",
	eventType(aggregates.TypeResettlementPlanDrafted):       "Resettlement plan drafted",
	eventType(aggregates.TypeResettlementPlanRevised):       "Resettlement plan revised",
	eventType(aggregates.TypePathwayNeedIdentified):         "Pathway need identified",
	eventType(aggregates.TypePathwayStatusChanged):          "Pathway status changed",
	eventType(aggregates.TypeActionAgreed):                  "Action agreed",
	eventType(aggregates.TypeActionAssigned):                "Action assigned",
	eventType(aggregates.TypeActionCompleted):               "Action completed",
	eventType(aggregates.TypeTemporaryAbsenceStarted):       "Temporary absence started",
	eventType(aggregates.TypeTemporaryAbsenceEnded):         "Temporary absence ended",
	eventType(aggregates.TypeSentToCourt):                   "Sent to court",
	eventType(aggregates.TypeReturnedFromCourt):             "Returned from court",
	eventType(aggregates.TypeTransferDeparted):              "Left for a transfer",
	eventType(aggregates.TypePrisonerTransferred):           "Transferred",
	eventType(aggregates.TypeReleaseDatesSet):               "Release dates set",
	eventType(aggregates.TypeReleaseDatesChanged):           "Release dates changed",
	eventType(aggregates.TypeSentenceRecalculated):          "Sentence recalculated",
	eventType(aggregates.TypePrisonerReleased):              "Released",
	eventType(aggregates.TypeMetAtGate):                     "Met at the gate",
	eventType(aggregates.TypeSupervisionContactRecorded):    "Supervision contact recorded",
	eventType(aggregates.TypeRiskAssessed):                  "Risk assessed",
	eventType(aggregates.TypeMAPPALevelSet):                 "MAPPA level set",
	eventType(aggregates.TypeBreachRecorded):                "Breach recorded",
	eventType(aggregates.TypeLicenceRevoked):                "Licence revoked",
	eventType(aggregates.TypeProvenReoffenceRecorded):       "Proven reoffence recorded",
	eventType(aggregates.TypeCRNLinked):                     "CRN linked",
	eventType(aggregates.TypeFactCorrected):                 "Fact corrected",
	eventType(aggregates.TypeJourneyClosed):                 "Journey closed",
	eventType(aggregates.TypeHandoverRequested):             "Handover requested",
	eventType(aggregates.TypeHandoverAccepted):              "Handover accepted",
	eventType(aggregates.TypeHandoverRejected):              "Handover rejected",
	eventType(aggregates.TypeReleaseAreaChanged):            "Release area changed",
	eventType(aggregates.TypePrisonerUnlawfullyAtLarge):     "Unlawfully at large",
	eventType(aggregates.TypePrisonerDiedInCustody):         "Died in custody",
	eventType(aggregates.TypePrisonerMovedToSecureHospital): "Moved to a secure hospital",
	eventType(aggregates.TypePrisonerMovedToRemovalCentre):  "Moved to an immigration removal centre",
	eventType(aggregates.TypePrisonNumberMerged):            "Prison number merged into another",
	eventType(aggregates.TypePrisonNumberAbsorbed):          "Another prison number merged into this one",
	eventType(aggregates.TypePrisonerSentenced):             "Sentenced",

	// Kinds of sentence (aggregates.SentenceType).
	aggregates.SentenceDeterminate:   "Determinate sentence",
	aggregates.SentenceIndeterminate: "Indeterminate sentence",
	aggregates.SentenceDTO:           "Detention and training order (DTO)",
}

// Of is the label of a typed code: any constant of the enums listed in the
// table. A code the table does not know (history written by a newer
// version, say) is still said in words rather than shown raw: an
// UPPER_SNAKE code as a sentence ("SOME_NEW_KIND" is "Some new kind"), a
// Go-style name as words (Name). Of(nil) is "".
func Of(v any) string {
	if v == nil {
		return ""
	}
	if l, ok := table[v]; ok {
		return l
	}
	switch x := v.(type) {
	case projections.Relation:
		return strings.Join(Relations(x), ", ")
	case projections.Direction:
		return string(rune(x))
	case fmt.Stringer:
		return Code(x.String())
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
		return Code(rv.String())
	}
	return fmt.Sprint(v)
}

// EventType is the label of a stored event type ("ReleaseAreaChanged" is
// "Release area changed").
func EventType(name string) string {
	if l, ok := table[eventType(name)]; ok {
		return l
	}
	return Name(name)
}

// HandoverReason is the label of the reason of a handover.
func HandoverReason(code string) string {
	if l, ok := table[handoverReason(code)]; ok {
		return l
	}
	return Code(code)
}

// Attention is the label of a reason for attention as
// projections.Attention.Reasons names it. The caseload owns those reasons and
// their words (projections.AttentionLabel): the README and the caseload's own
// tests read them there, so this table does not say them a second time.
func Attention(reason string) string {
	if l := projections.AttentionLabel(reason); l != reason {
		return l
	}
	return Code(reason)
}

// Relations labels each reason in r, in the order of the bits.
func Relations(r projections.Relation) []string {
	var out []string
	for _, x := range []projections.Relation{projections.RelResponsible, projections.RelHandingOver, projections.RelReceiving, projections.RelHolding} {
		if r.Has(x) {
			out = append(out, table[x])
		}
	}
	return out
}

// Code says an upper-case code nobody labelled in words: "PRE_RELEASE_WINDOW"
// is "Pre-release window". Text that is not such a code is returned as it is,
// Go-style names (PascalCase) said as words.
func Code(s string) string {
	if s == "" {
		return ""
	}
	if !isUpperCode(s) {
		if isGoName(s) {
			return Name(s)
		}
		return s
	}
	w := strings.ToLower(strings.ReplaceAll(s, "_", " "))
	w = strings.Replace(w, "pre release", "pre-release", 1)
	for k, a := range acronyms {
		w = replaceWord(w, k, a)
	}
	return strings.ToUpper(w[:1]) + w[1:]
}

// isUpperCode reports whether s is an enum code: capitals, digits and
// underscores only, with at least one letter.
func isUpperCode(s string) bool {
	letter := false
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			letter = true
		case r >= '0' && r <= '9', r == '_':
		default:
			return false
		}
	}
	return letter
}

// isGoName reports whether s is a PascalCase name such as "HandoverRequested".
func isGoName(s string) bool {
	if s == "" || !unicode.IsUpper(rune(s[0])) {
		return false
	}
	lower := false
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return false
		}
		if unicode.IsLower(r) {
			lower = true
		}
	}
	return lower
}

func replaceWord(s, word, with string) string {
	fields := strings.Fields(s)
	for i, f := range fields {
		if f == word {
			fields[i] = with
		}
	}
	return strings.Join(fields, " ")
}

// Name says a Go-style name in words: "PrisonerReceived" is "Prisoner
// received", "MAPPALevelSet" is "MAPPA level set", "prisonCode" is "Prison
// code". Acronyms keep their capitals.
func Name(name string) string {
	if name == "" {
		return ""
	}
	rs := []rune(name)
	var words []string
	start := 0
	for k := 1; k < len(rs); k++ {
		up, prevUp := unicode.IsUpper(rs[k]), unicode.IsUpper(rs[k-1])
		nextLower := k+1 < len(rs) && unicode.IsLower(rs[k+1])
		if up && (!prevUp || nextLower) {
			words = append(words, string(rs[start:k]))
			start = k
		}
	}
	words = append(words, string(rs[start:]))
	for k, w := range words {
		acronym := len(w) > 1 && strings.ToUpper(w) == w
		if a, ok := acronyms[strings.ToLower(w)]; ok {
			words[k] = a
			continue
		}
		switch {
		case acronym:
		case k == 0:
			r := []rune(w)
			r[0] = unicode.ToUpper(r[0])
			words[k] = string(r)
		default:
			words[k] = strings.ToLower(w)
		}
	}
	return strings.Join(words, " ")
}

// acronyms are the words spelled in capitals however a code or name spells
// them ("crn" is CRN).
var acronyms = map[string]string{"crn": "CRN", "pnc": "PNC", "noms": "NOMS", "id": "ID", "mappa": "MAPPA",
	"rosh": "RoSH", "nps": "NPS", "crc": "CRC", "hdc": "HDC", "ecsl": "ECSL", "hmpps": "HMPPS", "uk": "UK"}

// codeToken matches an enum code inside text: capitals and digits joined by
// underscores ("ON_LICENCE", "SUPERVISION_ENDED"). Single words (prison
// codes, "HDC") are left alone: they read as names.
var codeToken = regexp.MustCompile(`\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b`)

// byCode is the label of each code string in the table, for text that
// carries codes without their types (Words, Text). A code the table holds
// under several types with different labels ("DIED": "Died in custody", the
// status, and "Died", the close reason) is left out, and so said by Code.
var byCode = func() map[string]string {
	m := map[string]string{}
	clash := map[string]bool{}
	for k, l := range table {
		rv := reflect.ValueOf(k)
		if rv.Kind() != reflect.String || rv.String() == "" {
			continue
		}
		c := rv.String()
		if old, ok := m[c]; ok && old != l {
			clash[c] = true
		}
		m[c] = l
	}
	for c := range clash {
		delete(m, c)
	}
	return m
}()

// Words is the label of v: Of for a typed code; for a plain string, the
// label the table gives that code, else Code. Templates use it where a code
// arrives as a string (a reason for attention, a custody status in a view).
func Words(v any) string {
	s, ok := v.(string)
	if !ok {
		return Of(v)
	}
	if l, ok := byCode[s]; ok {
		return l
	}
	return Code(s)
}

// Text says the enum codes inside a sentence in words, lower case as they
// sit mid-sentence: "closed (SUPERVISION_ENDED)" is "closed (supervision
// ended)". It is for text written by code that cannot use this package
// (the detail of an aggregates rule error).
func Text(s string) string {
	return codeToken.ReplaceAllStringFunc(s, func(code string) string {
		l, ok := byCode[code]
		if !ok {
			l = Code(code)
		}
		return lowerFirst(l)
	})
}

// lowerFirst lower-cases the first letter of a label unless it starts an
// acronym ("HDC", "MAPPA").
func lowerFirst(l string) string {
	first, _, _ := strings.Cut(l, " ")
	if len(first) > 1 && strings.ToUpper(first) == first {
		return l
	}
	return strings.ToLower(l[:1]) + l[1:]
}
