package web

import (
	"github.com/gateledger/gateledger/aggregates"
)

// pathParams are the command's values from the URL.
type pathParams struct {
	NOMS     string
	Pathway  aggregates.Pathway
	ActionID string
}

// commandBody is the JSON body of one command route. command validates every
// field (all invalid fields at once, as a validation *problemError) and builds
// the aggregate command. Times are strings parsed here rather than time.Time
// so that a bad value is reported against its field.
type commandBody interface {
	command(p pathParams) (aggregates.Command, error)
}

// commandRoute is one command of the journey: POST /v1/journeys/{noms}<Path>.
type commandRoute struct {
	// Path follows /v1/journeys/{noms}; it may hold {pathway} or {id}.
	Path string
	// Name is the OpenAPI operationId and the aggregate command's name.
	Name string
	// Summary documents the route.
	Summary string
	// New returns an empty body to decode into.
	New func() commandBody
}

// commandRoutes lists every journey command the API accepts, one route each.
// It is the single table the router, the OpenAPI test and the fuzzer read.
var commandRoutes = []commandRoute{
	{"/receptions", "ReceivePrisoner", "Record a reception into custody (prison staff)", func() commandBody { return &receptionBody{} }},
	{"/movements", "RecordMovement", "Record a temporary absence, court or transfer movement", func() commandBody { return &movementBody{} }},
	{"/releases", "ReleasePrisoner", "Record a release into the community", func() commandBody { return &releaseBody{} }},
	{"/custody-ends", "EndCustody", "Record that custody ended without a release: unlawfully at large, died in custody, or moved to a secure hospital or an immigration removal centre", func() commandBody { return &custodyEndBody{} }},
	{"/screenings", "CompleteScreening", "Record Basic Custody Screening part 1", func() commandBody { return &atBody{name: "CompleteScreening"} }},
	{"/plan", "DraftPlan", "Draft the resettlement plan (screening part 2)", func() commandBody { return &draftPlanBody{} }},
	{"/plan/revisions", "RevisePlan", "Revise the resettlement plan", func() commandBody { return &revisePlanBody{} }},
	{"/pathways/{pathway}/needs", "IdentifyNeed", "Identify a need on a pathway", func() commandBody { return &needBody{} }},
	{"/pathways/{pathway}/status", "ChangePathwayStatus", "Change a pathway's status", func() commandBody { return &pathwayStatusBody{} }},
	{"/actions", "AgreeAction", "Agree an action on a pathway", func() commandBody { return &agreeActionBody{} }},
	{"/actions/{id}/assignment", "AssignAction", "Assign an action to an organisation", func() commandBody { return &assignActionBody{} }},
	{"/actions/{id}/completion", "CompleteAction", "Record the outcome of an action", func() commandBody { return &completeActionBody{} }},
	{"/release-dates", "SetReleaseDates", "Record the release dates of the current sentence calculation", func() commandBody { return &releaseDatesBody{} }},
	{"/sentence-recalculations", "NoteSentenceRecalculation", "Note that NOMIS recalculated the sentence", func() commandBody { return &recalculationBody{} }},
	{"/met-at-gate", "RecordMetAtGate", "Record that the person was met at the gate", func() commandBody { return &metAtGateBody{} }},
	{"/supervision-contacts", "RecordSupervisionContact", "Record a supervision contact in the community", func() commandBody { return &contactBody{} }},
	{"/risk", "AssessRisk", "Record a risk of serious harm assessment", func() commandBody { return &riskBody{} }},
	{"/mappa", "SetMAPPALevel", "Record the MAPPA level (0 when no longer MAPPA)", func() commandBody { return &mappaBody{} }},
	{"/breaches", "RecordBreach", "Record a breach of licence or supervision", func() commandBody { return &breachBody{} }},
	{"/recalls", "RecallPrisoner", "Record the revocation of the licence", func() commandBody { return &recallBody{} }},
	{"/reoffences", "RecordProvenReoffence", "Record a proven reoffence", func() commandBody { return &reoffenceBody{} }},
	{"/crn", "LinkCRN", "Link the probation case reference (and PNC id)", func() commandBody { return &crnBody{} }},
	{"/corrections", "CorrectFact", "Record a correction of an earlier event", func() commandBody { return &correctionBody{} }},
	{"/closure", "CloseJourney", "Close the journey", func() commandBody { return &closeBody{} }},
	{"/handovers", "RequestHandover", "Request a handover of responsibility", func() commandBody { return &handoverBody{} }},
	{"/handovers/current/acceptance", "AcceptHandover", "Accept the open handover (receiving side)", func() commandBody { return &atBody{name: "AcceptHandover"} }},
	{"/handovers/current/rejection", "RejectHandover", "Reject the open handover (receiving side)", func() commandBody { return &rejectBody{} }},
	{"/sentences", "SentencePrisoner", "Record the sentence of a person in custody: the details of a sentence reception, or the sentencing of a remand prisoner (prison staff)", func() commandBody { return &sentenceBody{} }},
	{"/release-area", "ChangeReleaseArea", "Record the contract package area of the release address", func() commandBody { return &releaseAreaBody{} }},
}

// Value lists for messages.
const (
	receptionKinds = "REMAND, SENTENCE, RECALL, ADMISSION"
	movementKinds  = "TEMPORARY_ABSENCE_OUT, TEMPORARY_ABSENCE_RETURN, COURT_OUT, COURT_RETURN, TRANSFER_OUT, TRANSFER_IN"
	releaseKinds   = "ON_LICENCE, HDC, ECSL, SENTENCE_END, TO_HOSPITAL, DISCHARGED"
	custodyEnds    = "UNLAWFULLY_AT_LARGE, DIED, SECURE_HOSPITAL, IMMIGRATION_REMOVAL_CENTRE"
	pathwayNames   = "ACCOMMODATION, ATTITUDES_THINKING_AND_BEHAVIOUR, CHILDREN_FAMILIES_AND_COMMUNITY, DRUGS_AND_ALCOHOL, EDUCATION_SKILLS_AND_WORK, FINANCE_AND_ID, HEALTH"
	statusNames    = "NOT_STARTED, SUPPORT_REQUIRED, IN_PROGRESS, SUPPORT_NOT_REQUIRED, SUPPORT_DECLINED, DONE"
	roshLevels     = "LOW, MEDIUM, HIGH, VERY_HIGH"
	closeReasons   = "SUPERVISION_ENDED, DIED, DEPORTED, ADMINISTRATIVE"
	correctable    = "receptionKind, releaseKind, prison, note"
	sentenceTypes  = "DETERMINATE, INDETERMINATE, DTO"
)

// atBody is a command that carries only when it happened.
type atBody struct {
	name string
	At   string `json:"at"`
}

func (b *atBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	at := v.time("at", b.At, true)
	if err := v.err(); err != nil {
		return nil, err
	}
	switch b.name {
	case "AcceptHandover":
		return aggregates.AcceptHandover{At: at}, nil
	default:
		return aggregates.CompleteScreening{At: at}, nil
	}
}

type receptionBody struct {
	Kind               string `json:"kind"`
	Prison             string `json:"prison"`
	BookingID          string `json:"bookingId"`
	MovementReasonCode string `json:"movementReasonCode"`
	At                 string `json:"at"`
}

func (b *receptionBody) command(p pathParams) (aggregates.Command, error) {
	var v validator
	v.enum("kind", b.Kind, aggregates.ReceptionKind(b.Kind).Valid(), receptionKinds)
	v.ident("prison", "prison", b.Prison, true)
	v.ident("bookingId", "bookingId", b.BookingID, false)
	v.text("movementReasonCode", b.MovementReasonCode, false, 16)
	at := v.time("at", b.At, true)
	return aggregates.ReceivePrisoner{NOMS: p.NOMS, Kind: aggregates.ReceptionKind(b.Kind), Prison: b.Prison,
		BookingID: b.BookingID, MovementReasonCode: b.MovementReasonCode, At: at}, v.err()
}

type movementBody struct {
	Kind                   string `json:"kind"`
	Prison                 string `json:"prison"`
	FromPrison             string `json:"fromPrison"`
	IntoResettlementPrison bool   `json:"intoResettlementPrison"`
	At                     string `json:"at"`
}

func (b *movementBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	v.enum("kind", b.Kind, aggregates.MovementKind(b.Kind).Valid(), movementKinds)
	v.ident("prison", "prison", b.Prison, true)
	v.ident("fromPrison", "prison", b.FromPrison, false)
	at := v.time("at", b.At, true)
	return aggregates.RecordMovement{Kind: aggregates.MovementKind(b.Kind), Prison: b.Prison, FromPrison: b.FromPrison,
		IntoResettlementPrison: b.IntoResettlementPrison, At: at}, v.err()
}

type releaseBody struct {
	Kind   string `json:"kind"`
	Prison string `json:"prison"`
	At     string `json:"at"`
}

func (b *releaseBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	v.enum("kind", b.Kind, aggregates.ReleaseKind(b.Kind).Valid(), releaseKinds)
	v.ident("prison", "prison", b.Prison, true)
	at := v.time("at", b.At, true)
	return aggregates.ReleasePrisoner{Kind: aggregates.ReleaseKind(b.Kind), Prison: b.Prison, At: at}, v.err()
}

type custodyEndBody struct {
	Kind   string `json:"kind"`
	Prison string `json:"prison"`
	At     string `json:"at"`
}

func (b *custodyEndBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	v.enum("kind", b.Kind, aggregates.CustodyEndKind(b.Kind).Valid(), custodyEnds)
	v.ident("prison", "prison", b.Prison, true)
	at := v.time("at", b.At, true)
	return aggregates.EndCustody{Kind: aggregates.CustodyEndKind(b.Kind), Prison: b.Prison, At: at}, v.err()
}

type draftPlanBody struct {
	Summary string `json:"summary"`
	At      string `json:"at"`
}

func (b *draftPlanBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	v.text("summary", b.Summary, true, maxText)
	at := v.time("at", b.At, true)
	return aggregates.DraftPlan{Summary: b.Summary, At: at}, v.err()
}

type revisePlanBody struct {
	Summary string `json:"summary"`
	Reason  string `json:"reason"`
	At      string `json:"at"`
}

func (b *revisePlanBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	v.text("summary", b.Summary, true, maxText)
	v.text("reason", b.Reason, false, maxText)
	at := v.time("at", b.At, true)
	return aggregates.RevisePlan{Summary: b.Summary, Reason: b.Reason, At: at}, v.err()
}

type needBody struct {
	Description string `json:"description"`
	At          string `json:"at"`
}

func (b *needBody) command(p pathParams) (aggregates.Command, error) {
	var v validator
	v.text("description", b.Description, true, maxText)
	at := v.time("at", b.At, true)
	return aggregates.IdentifyNeed{Pathway: p.Pathway, Description: b.Description, At: at}, v.err()
}

type pathwayStatusBody struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
	At     string `json:"at"`
}

func (b *pathwayStatusBody) command(p pathParams) (aggregates.Command, error) {
	var v validator
	st := aggregates.PathwayStatus(b.Status)
	v.enum("status", b.Status, st.Valid(), statusNames)
	v.text("reason", b.Reason, st.NeedsReason(), maxText)
	at := v.time("at", b.At, true)
	return aggregates.ChangePathwayStatus{Pathway: p.Pathway, Status: st, Reason: b.Reason, At: at}, v.err()
}

type agreeActionBody struct {
	ActionID    string `json:"actionId"`
	Pathway     string `json:"pathway"`
	Description string `json:"description"`
	Due         string `json:"due"`
	At          string `json:"at"`
}

func (b *agreeActionBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	v.ident("actionId", "actionId", b.ActionID, true)
	v.enum("pathway", b.Pathway, aggregates.Pathway(b.Pathway).Valid(), pathwayNames)
	v.text("description", b.Description, true, maxText)
	due := v.date("due", b.Due, false)
	at := v.time("at", b.At, true)
	return aggregates.AgreeAction{ActionID: b.ActionID, Pathway: aggregates.Pathway(b.Pathway), Description: b.Description,
		Due: due, At: at}, v.err()
}

type assignActionBody struct {
	Owner string `json:"owner"`
	At    string `json:"at"`
}

func (b *assignActionBody) command(p pathParams) (aggregates.Command, error) {
	var v validator
	owner := v.org("owner", b.Owner, true)
	at := v.time("at", b.At, true)
	return aggregates.AssignAction{ActionID: p.ActionID, Owner: owner, At: at}, v.err()
}

type completeActionBody struct {
	Outcome string `json:"outcome"`
	At      string `json:"at"`
}

func (b *completeActionBody) command(p pathParams) (aggregates.Command, error) {
	var v validator
	v.text("outcome", b.Outcome, true, maxText)
	at := v.time("at", b.At, true)
	return aggregates.CompleteAction{ActionID: p.ActionID, Outcome: b.Outcome, At: at}, v.err()
}

// releaseDatesJSON are the competing release dates, YYYY-MM-DD each.
type releaseDatesJSON struct {
	ConfirmedRelease   string `json:"confirmedReleaseDate"`
	ActualParole       string `json:"actualParoleDate"`
	HDCActual          string `json:"hdcActualDate"`
	ConditionalRelease string `json:"conditionalReleaseDate"`
	AutomaticRelease   string `json:"automaticReleaseDate"`
}

type releaseDatesBody struct {
	Dates        releaseDatesJSON `json:"dates"`
	Reason       string           `json:"reason"`
	CalculatedAt string           `json:"calculatedAt"`
	At           string           `json:"at"`
}

func (b *releaseDatesBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	d := aggregates.ReleaseDates{
		ConfirmedRelease:   v.date("dates.confirmedReleaseDate", b.Dates.ConfirmedRelease, false),
		ActualParole:       v.date("dates.actualParoleDate", b.Dates.ActualParole, false),
		HDCActual:          v.date("dates.hdcActualDate", b.Dates.HDCActual, false),
		ConditionalRelease: v.date("dates.conditionalReleaseDate", b.Dates.ConditionalRelease, false),
		AutomaticRelease:   v.date("dates.automaticReleaseDate", b.Dates.AutomaticRelease, false),
	}
	if len(v.errs) == 0 && d.IsZero() {
		v.add("dates", "at least one release date is required")
	}
	v.text("reason", b.Reason, false, maxText)
	calc := v.time("calculatedAt", b.CalculatedAt, false)
	at := v.time("at", b.At, true)
	return aggregates.SetReleaseDates{Dates: d, Reason: b.Reason, CalculatedAt: calc, At: at}, v.err()
}

// sentenceBody records a sentence (SentencePrisoner).
type sentenceBody struct {
	Type         string `json:"type"`
	LengthMonths int    `json:"lengthMonths"`
	LengthDays   int    `json:"lengthDays"`
	SentenceDate string `json:"sentenceDate"`
	OffenceDate  string `json:"offenceDate"`
	Under18      bool   `json:"under18"`
	At           string `json:"at"`
}

func (b *sentenceBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	t := aggregates.SentenceType(b.Type)
	v.enum("type", b.Type, t.Valid(), sentenceTypes)
	if b.LengthMonths < 0 || b.LengthMonths > 1200 {
		v.add("lengthMonths", "must be 0 to 1200")
	}
	if b.LengthDays < 0 || b.LengthDays > 36500 {
		v.add("lengthDays", "must be 0 to 36500")
	}
	sd := v.date("sentenceDate", b.SentenceDate, true)
	od := v.date("offenceDate", b.OffenceDate, false)
	at := v.time("at", b.At, true)
	return aggregates.SentencePrisoner{Type: t, LengthMonths: b.LengthMonths, LengthDays: b.LengthDays, SentenceDate: sd,
		OffenceDate: od, Under18: b.Under18, At: at}, v.err()
}

type recalculationBody struct {
	BookingID     string `json:"bookingId"`
	CalculationID string `json:"calculationId"`
	At            string `json:"at"`
}

func (b *recalculationBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	v.ident("bookingId", "bookingId", b.BookingID, true)
	v.ident("calculationId", "bookingId", b.CalculationID, true)
	at := v.time("at", b.At, true)
	return aggregates.NoteSentenceRecalculation{BookingID: b.BookingID, CalculationID: b.CalculationID, At: at}, v.err()
}

type metAtGateBody struct {
	By string `json:"by"`
	At string `json:"at"`
}

func (b *metAtGateBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	v.text("by", b.By, true, maxShort)
	at := v.time("at", b.At, true)
	return aggregates.RecordMetAtGate{By: b.By, At: at}, v.err()
}

type contactBody struct {
	By   string `json:"by"`
	Kind string `json:"kind"`
	Note string `json:"note"`
	At   string `json:"at"`
}

func (b *contactBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	by := v.org("by", b.By, true)
	v.text("kind", b.Kind, true, maxShort)
	v.text("note", b.Note, false, maxText)
	at := v.time("at", b.At, true)
	return aggregates.RecordSupervisionContact{By: by, Kind: b.Kind, Note: b.Note, At: at}, v.err()
}

type riskBody struct {
	Level string `json:"level"`
	At    string `json:"at"`
}

func (b *riskBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	v.enum("level", b.Level, aggregates.RoSH(b.Level).Valid(), roshLevels)
	at := v.time("at", b.At, true)
	return aggregates.AssessRisk{Level: aggregates.RoSH(b.Level), At: at}, v.err()
}

type mappaBody struct {
	// Level is a pointer so that a missing level is told from level 0.
	Level *int   `json:"level"`
	At    string `json:"at"`
}

func (b *mappaBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	level := 0
	switch {
	case b.Level == nil:
		v.add("level", "is required (0-3)")
	case *b.Level < 0 || *b.Level > 3:
		v.add("level", "must be 0, 1, 2 or 3")
	default:
		level = *b.Level
	}
	at := v.time("at", b.At, true)
	return aggregates.SetMAPPALevel{Level: level, At: at}, v.err()
}

type breachBody struct {
	Description string `json:"description"`
	At          string `json:"at"`
}

func (b *breachBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	v.text("description", b.Description, true, maxText)
	at := v.time("at", b.At, true)
	return aggregates.RecordBreach{Description: b.Description, At: at}, v.err()
}

type recallBody struct {
	Reason string `json:"reason"`
	At     string `json:"at"`
}

func (b *recallBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	v.text("reason", b.Reason, true, maxText)
	at := v.time("at", b.At, true)
	return aggregates.RecallPrisoner{Reason: b.Reason, At: at}, v.err()
}

type reoffenceBody struct {
	Offence        string `json:"offence"`
	OffenceDate    string `json:"offenceDate"`
	ConvictionDate string `json:"convictionDate"`
	At             string `json:"at"`
}

func (b *reoffenceBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	v.text("offence", b.Offence, true, maxText)
	od := v.date("offenceDate", b.OffenceDate, true)
	cd := v.date("convictionDate", b.ConvictionDate, true)
	at := v.time("at", b.At, true)
	return aggregates.RecordProvenReoffence{Offence: b.Offence, OffenceDate: od, ConvictionDate: cd, At: at}, v.err()
}

type crnBody struct {
	CRN string `json:"crn"`
	PNC string `json:"pnc"`
	At  string `json:"at"`
}

func (b *crnBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	v.ident("crn", "crn", b.CRN, true)
	v.ident("pnc", "pnc", b.PNC, false)
	at := v.time("at", b.At, true)
	return aggregates.LinkCRN{CRN: b.CRN, PNC: b.PNC, At: at}, v.err()
}

type correctionBody struct {
	CorrectsEventID string `json:"correctsEventId"`
	Field           string `json:"field"`
	Value           string `json:"value"`
	Reason          string `json:"reason"`
	At              string `json:"at"`
}

func (b *correctionBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	v.ident("correctsEventId", "correctsEventId", b.CorrectsEventID, true)
	switch b.Field {
	case aggregates.FieldReceptionKind, aggregates.FieldReleaseKind, aggregates.FieldPrison:
		v.text("value", b.Value, true, maxShort)
	case aggregates.FieldNote:
		v.text("value", b.Value, false, maxText)
	default:
		v.enum("field", b.Field, false, correctable)
	}
	v.text("reason", b.Reason, true, maxText)
	at := v.time("at", b.At, true)
	return aggregates.CorrectFact{CorrectsEventID: b.CorrectsEventID, Field: b.Field, Value: b.Value, Reason: b.Reason, At: at}, v.err()
}

type closeBody struct {
	Reason string `json:"reason"`
	At     string `json:"at"`
}

func (b *closeBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	v.enum("reason", b.Reason, aggregates.CloseReason(b.Reason).Valid(), closeReasons)
	at := v.time("at", b.At, true)
	return aggregates.CloseJourney{Reason: aggregates.CloseReason(b.Reason), At: at}, v.err()
}

type handoverBody struct {
	To     string `json:"to"`
	Reason string `json:"reason"`
	Due    string `json:"due"`
	At     string `json:"at"`
}

func (b *handoverBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	to := v.org("to", b.To, true)
	v.text("reason", b.Reason, true, maxText)
	due := v.time("due", b.Due, false)
	at := v.time("at", b.At, true)
	return aggregates.RequestHandover{To: to, Reason: b.Reason, Due: due, At: at}, v.err()
}

type rejectBody struct {
	Reason string `json:"reason"`
	At     string `json:"at"`
}

func (b *rejectBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	v.text("reason", b.Reason, true, maxText)
	at := v.time("at", b.At, true)
	return aggregates.RejectHandover{Reason: b.Reason, At: at}, v.err()
}

type releaseAreaBody struct {
	Area string `json:"area"`
	At   string `json:"at"`
}

func (b *releaseAreaBody) command(pathParams) (aggregates.Command, error) {
	var v validator
	v.ident("area", "releaseArea", b.Area, true)
	at := v.time("at", b.At, true)
	return aggregates.ChangeReleaseArea{Area: b.Area, At: at}, v.err()
}
