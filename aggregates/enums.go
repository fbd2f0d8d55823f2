package aggregates

import "slices"

// ReceptionKind says why someone came into custody.
type ReceptionKind string

// Reception kinds. ADMISSION is what the HMPPS feed says when it does not
// distinguish remand from sentence; it is recorded as said rather than
// guessed, and a person can reclassify it with a FactCorrected.
const (
	ReceptionRemand    ReceptionKind = "REMAND"
	ReceptionSentence  ReceptionKind = "SENTENCE"
	ReceptionRecall    ReceptionKind = "RECALL"
	ReceptionAdmission ReceptionKind = "ADMISSION"
)

// Valid reports whether k is a known reception kind.
func (k ReceptionKind) Valid() bool {
	return slices.Contains([]ReceptionKind{ReceptionRemand, ReceptionSentence, ReceptionRecall, ReceptionAdmission}, k)
}

// ReleaseKind says how someone left custody for good.
type ReleaseKind string

// Release kinds. DISCHARGED is the feed's RELEASED reason, which does not say
// whether it is on licence, HDC or at sentence end.
const (
	ReleaseOnLicence   ReleaseKind = "ON_LICENCE"
	ReleaseHDC         ReleaseKind = "HDC"
	ReleaseSentenceEnd ReleaseKind = "SENTENCE_END"
	// ReleaseECSL is release on an end of custody supervised licence.
	ReleaseECSL ReleaseKind = "ECSL"
	// ReleaseToHospital is kept only to read history written before the
	// ledger knew that a move to a secure hospital is not a release: such an
	// event folds as PrisonerMovedToSecureHospital, and a ReleasePrisoner of
	// this kind is decided as EndCustody SECURE_HOSPITAL.
	ReleaseToHospital ReleaseKind = "TO_HOSPITAL"
	// ReleaseDischarged is a discharge with no supervision to follow: a
	// remand prisoner bailed, acquitted or released on time served, or
	// immigration bail.
	ReleaseDischarged ReleaseKind = "DISCHARGED"
)

// Valid reports whether k is a known release kind.
func (k ReleaseKind) Valid() bool {
	return slices.Contains([]ReleaseKind{ReleaseOnLicence, ReleaseHDC, ReleaseECSL, ReleaseSentenceEnd, ReleaseToHospital, ReleaseDischarged}, k)
}

// Supervised reports whether supervision in the community follows a release
// of this kind (licence, HDC, ECSL, post-sentence supervision after the
// sentence end: Offender Rehabilitation Act 2014, s.2). A discharge starts
// none, so it asks for no community handover.
func (k ReleaseKind) Supervised() bool {
	return k == ReleaseOnLicence || k == ReleaseHDC || k == ReleaseECSL || k == ReleaseSentenceEnd
}

// MovementKind is a custody movement that is not a reception or a release.
// None of them ends custody.
type MovementKind string

// Movement kinds, one event type each.
const (
	MovementTemporaryAbsenceOut    MovementKind = "TEMPORARY_ABSENCE_OUT"
	MovementTemporaryAbsenceReturn MovementKind = "TEMPORARY_ABSENCE_RETURN"
	MovementCourtOut               MovementKind = "COURT_OUT"
	MovementCourtReturn            MovementKind = "COURT_RETURN"
	MovementTransferOut            MovementKind = "TRANSFER_OUT"
	MovementTransferIn             MovementKind = "TRANSFER_IN"
)

// Valid reports whether k is a known movement kind.
func (k MovementKind) Valid() bool {
	return slices.Contains([]MovementKind{MovementTemporaryAbsenceOut, MovementTemporaryAbsenceReturn,
		MovementCourtOut, MovementCourtReturn, MovementTransferOut, MovementTransferIn}, k)
}

// CustodyStatus is where the person stands in the journey.
type CustodyStatus string

// Custody statuses. The zero value is NotReceived.
const (
	NotReceived CustodyStatus = ""
	InCustody   CustodyStatus = "IN_CUSTODY"
	Released    CustodyStatus = "RELEASED"
	// UnlawfullyAtLarge: custody ended without a release (absconded,
	// escaped, failed to return); a recall or return is expected.
	UnlawfullyAtLarge CustodyStatus = "UNLAWFULLY_AT_LARGE"
	// DetainedElsewhere: moved from prison to a secure hospital or an
	// immigration removal centre (Journey.DetainedIn says which); detention
	// continues.
	DetainedElsewhere CustodyStatus = "DETAINED_ELSEWHERE"
	// Died: died in custody; the journey is closed for good.
	Died CustodyStatus = "DIED"
)

// Detained reports whether the person is held now, in a prison or elsewhere
// (secure hospital, immigration removal centre).
func (s CustodyStatus) Detained() bool { return s == InCustody || s == DetainedElsewhere }

// Away says why someone in custody is outside the prison for now.
type Away string

// Away reasons; the zero value means inside the prison.
const (
	AwayNone             Away = ""
	AwayTemporaryAbsence Away = "TEMPORARY_ABSENCE"
	AwayCourt            Away = "COURT"
	AwayTransfer         Away = "TRANSFER"
)

// Pathway is one of the seven resettlement pathways used by HMPPS.
type Pathway string

// The seven pathways.
const (
	PathwayAccommodation    Pathway = "ACCOMMODATION"
	PathwayAttitudes        Pathway = "ATTITUDES_THINKING_AND_BEHAVIOUR"
	PathwayChildrenFamilies Pathway = "CHILDREN_FAMILIES_AND_COMMUNITY"
	PathwayDrugsAlcohol     Pathway = "DRUGS_AND_ALCOHOL"
	PathwayEducationWork    Pathway = "EDUCATION_SKILLS_AND_WORK"
	PathwayFinanceID        Pathway = "FINANCE_AND_ID"
	PathwayHealth           Pathway = "HEALTH"
)

// Pathways lists the seven pathways in HMPPS order.
func Pathways() []Pathway {
	return []Pathway{PathwayAccommodation, PathwayAttitudes, PathwayChildrenFamilies,
		PathwayDrugsAlcohol, PathwayEducationWork, PathwayFinanceID, PathwayHealth}
}

// Valid reports whether p is one of the seven pathways.
func (p Pathway) Valid() bool { return slices.Contains(Pathways(), p) }

// PathwayStatus is the state of a pathway.
type PathwayStatus string

// Pathway statuses; a pathway never touched is NOT_STARTED.
const (
	StatusNotStarted         PathwayStatus = "NOT_STARTED"
	StatusSupportRequired    PathwayStatus = "SUPPORT_REQUIRED"
	StatusInProgress         PathwayStatus = "IN_PROGRESS"
	StatusSupportNotRequired PathwayStatus = "SUPPORT_NOT_REQUIRED"
	StatusSupportDeclined    PathwayStatus = "SUPPORT_DECLINED"
	StatusDone               PathwayStatus = "DONE"
)

// Valid reports whether s is a known pathway status.
func (s PathwayStatus) Valid() bool {
	return slices.Contains([]PathwayStatus{StatusNotStarted, StatusSupportRequired, StatusInProgress,
		StatusSupportNotRequired, StatusSupportDeclined, StatusDone}, s)
}

// NeedsReason reports whether moving to s must carry a reason.
func (s PathwayStatus) NeedsReason() bool {
	return s == StatusSupportDeclined || s == StatusSupportNotRequired
}

// RoSH is the risk of serious harm level.
type RoSH string

// RoSH levels; the zero value means not assessed.
const (
	RoSHLow      RoSH = "LOW"
	RoSHMedium   RoSH = "MEDIUM"
	RoSHHigh     RoSH = "HIGH"
	RoSHVeryHigh RoSH = "VERY_HIGH"
)

// Valid reports whether r is a known level.
func (r RoSH) Valid() bool { return r.rank() > 0 }

// AtLeastHigh reports whether r is HIGH or VERY_HIGH, the levels the NPS
// manages.
func (r RoSH) AtLeastHigh() bool { return r.rank() >= 3 }

func (r RoSH) rank() int {
	switch r {
	case RoSHLow:
		return 1
	case RoSHMedium:
		return 2
	case RoSHHigh:
		return 3
	case RoSHVeryHigh:
		return 4
	}
	return 0
}

// CloseReason says why a journey closed.
type CloseReason string

// Close reasons. SUPERVISION_ENDED is the normal end, twelve months after
// release; the others end a journey early.
const (
	CloseSupervisionEnded CloseReason = "SUPERVISION_ENDED"
	CloseDied             CloseReason = "DIED"
	CloseDeported         CloseReason = "DEPORTED"
	CloseAdministrative   CloseReason = "ADMINISTRATIVE"
)

// Valid reports whether r is a known close reason.
func (r CloseReason) Valid() bool {
	return slices.Contains([]CloseReason{CloseSupervisionEnded, CloseDied, CloseDeported, CloseAdministrative}, r)
}

// Correctable fields for FactCorrected. Only fields whose correction has a
// clear effect on state are listed; FieldNote records a correction that
// changes nothing derived (the history keeps it for inspectors).
const (
	FieldReceptionKind = "receptionKind"
	FieldReleaseKind   = "releaseKind"
	FieldPrison        = "prison"
	FieldNote          = "note"
)
