package request

import (
	"errors"
	"slices"
	"strings"

	"github.com/gateledger/gateledger/aggregates"
)

// CommandTarget names what a command applies to: the person ({noms}), and
// for the routes that take them the pathway ({pathway}) and the action
// ({id}). The API reads it from the route's path; a form names it.
type CommandTarget struct {
	NOMS     string
	Pathway  aggregates.Pathway
	ActionID string
}

// Body is the JSON body of one command route. Command validates every field
// (all invalid fields at once, as a validation *problem.Error) and builds the
// aggregate command for the target, which CommandRoute.CheckTarget has
// checked. Times are strings parsed here rather than time.Time so that a bad
// value is reported against its field.
type Body interface {
	Command(t CommandTarget) (aggregates.Command, error)
}

// CommandRoute is one command of the journey: POST /v1/journeys/{noms}<Path>.
type CommandRoute struct {
	// Path follows /v1/journeys/{noms}; it may hold {pathway} or {id}.
	Path string
	// Name is the OpenAPI operationId and the aggregate command's name.
	Name string
	// Summary documents the route.
	Summary string
	// New returns an empty body to decode into.
	New func() Body
}

// CommandRoutes lists every journey command the ledger accepts, one route
// each. It is the single table the API's router, the OpenAPI test, the
// fuzzer and DecodeCommand read.
func CommandRoutes() []CommandRoute { return slices.Clone(commandRoutes) }

var commandRoutes = []CommandRoute{
	{"/receptions", "ReceivePrisoner", "Record a reception into custody (prison staff)", func() Body { return &receptionBody{} }},
	{"/movements", "RecordMovement", "Record a temporary absence, court or transfer movement", func() Body { return &movementBody{} }},
	{"/releases", "ReleasePrisoner", "Record a release into the community", func() Body { return &releaseBody{} }},
	{"/custody-ends", "EndCustody", "Record that custody ended without a release: unlawfully at large, died in custody, or moved to a secure hospital or an immigration removal centre", func() Body { return &custodyEndBody{} }},
	{"/screenings", "CompleteScreening", "Record Basic Custody Screening part 1", func() Body { return &atBody{name: "CompleteScreening"} }},
	{"/plan", "DraftPlan", "Draft the resettlement plan (screening part 2)", func() Body { return &draftPlanBody{} }},
	{"/plan/revisions", "RevisePlan", "Revise the resettlement plan", func() Body { return &revisePlanBody{} }},
	{"/pathways/{pathway}/needs", "IdentifyNeed", "Identify a need on a pathway", func() Body { return &needBody{} }},
	{"/pathways/{pathway}/status", "ChangePathwayStatus", "Change a pathway's status", func() Body { return &pathwayStatusBody{} }},
	{"/actions", "AgreeAction", "Agree an action on a pathway", func() Body { return &agreeActionBody{} }},
	{"/actions/{id}/assignment", "AssignAction", "Assign an action to an organisation", func() Body { return &assignActionBody{} }},
	{"/actions/{id}/completion", "CompleteAction", "Record the outcome of an action", func() Body { return &completeActionBody{} }},
	{"/release-dates", "SetReleaseDates", "Record the release dates of the current sentence calculation", func() Body { return &releaseDatesBody{} }},
	{"/sentence-recalculations", "NoteSentenceRecalculation", "Note that NOMIS recalculated the sentence", func() Body { return &recalculationBody{} }},
	{"/met-at-gate", "RecordMetAtGate", "Record that the person was met at the gate", func() Body { return &metAtGateBody{} }},
	{"/supervision-contacts", "RecordSupervisionContact", "Record a supervision contact in the community", func() Body { return &contactBody{} }},
	{"/risk", "AssessRisk", "Record a risk of serious harm assessment", func() Body { return &riskBody{} }},
	{"/mappa", "SetMAPPALevel", "Record the MAPPA level (0 when no longer MAPPA)", func() Body { return &mappaBody{} }},
	{"/breaches", "RecordBreach", "Record a breach of licence or supervision", func() Body { return &breachBody{} }},
	{"/recalls", "RecallPrisoner", "Record the revocation of the licence", func() Body { return &recallBody{} }},
	{"/reoffences", "RecordProvenReoffence", "Record a proven reoffence", func() Body { return &reoffenceBody{} }},
	{"/crn", "LinkCRN", "Link the probation case reference (and PNC id)", func() Body { return &crnBody{} }},
	{"/corrections", "CorrectFact", "Record a correction of an earlier event", func() Body { return &correctionBody{} }},
	{"/closure", "CloseJourney", "Close the journey", func() Body { return &closeBody{} }},
	{"/handovers", "RequestHandover", "Request a handover of responsibility", func() Body { return &handoverBody{} }},
	{"/handovers/current/acceptance", "AcceptHandover", "Accept the open handover (receiving side)", func() Body { return &atBody{name: "AcceptHandover"} }},
	{"/handovers/current/rejection", "RejectHandover", "Reject the open handover (receiving side)", func() Body { return &rejectBody{} }},
	{"/sentences", "SentencePrisoner", "Record the sentence of a person in custody: the details of a sentence reception, or the sentencing of a remand prisoner (prison staff)", func() Body { return &sentenceBody{} }},
	{"/release-area", "ChangeReleaseArea", "Record the contract package area of the release address", func() Body { return &releaseAreaBody{} }},
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

func (b *atBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	at := v.Time("at", b.At, true)
	if err := v.Err(); err != nil {
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

func (b *receptionBody) Command(p CommandTarget) (aggregates.Command, error) {
	var v Validator
	v.Enum("kind", b.Kind, aggregates.ReceptionKind(b.Kind).Valid(), receptionKinds)
	v.Ident("prison", "prison", b.Prison, true)
	v.Ident("bookingId", "bookingId", b.BookingID, false)
	v.Text("movementReasonCode", b.MovementReasonCode, false, 16)
	at := v.Time("at", b.At, true)
	return aggregates.ReceivePrisoner{NOMS: p.NOMS, Kind: aggregates.ReceptionKind(b.Kind), Prison: b.Prison,
		BookingID: b.BookingID, MovementReasonCode: b.MovementReasonCode, At: at}, v.Err()
}

type movementBody struct {
	Kind                   string `json:"kind"`
	Prison                 string `json:"prison"`
	FromPrison             string `json:"fromPrison"`
	IntoResettlementPrison bool   `json:"intoResettlementPrison"`
	At                     string `json:"at"`
}

func (b *movementBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	v.Enum("kind", b.Kind, aggregates.MovementKind(b.Kind).Valid(), movementKinds)
	v.Ident("prison", "prison", b.Prison, true)
	v.Ident("fromPrison", "prison", b.FromPrison, false)
	at := v.Time("at", b.At, true)
	return aggregates.RecordMovement{Kind: aggregates.MovementKind(b.Kind), Prison: b.Prison, FromPrison: b.FromPrison,
		IntoResettlementPrison: b.IntoResettlementPrison, At: at}, v.Err()
}

type releaseBody struct {
	Kind   string `json:"kind"`
	Prison string `json:"prison"`
	At     string `json:"at"`
}

func (b *releaseBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	v.Enum("kind", b.Kind, aggregates.ReleaseKind(b.Kind).Valid(), releaseKinds)
	v.Ident("prison", "prison", b.Prison, true)
	at := v.Time("at", b.At, true)
	return aggregates.ReleasePrisoner{Kind: aggregates.ReleaseKind(b.Kind), Prison: b.Prison, At: at}, v.Err()
}

type custodyEndBody struct {
	Kind   string `json:"kind"`
	Prison string `json:"prison"`
	At     string `json:"at"`
}

func (b *custodyEndBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	v.Enum("kind", b.Kind, aggregates.CustodyEndKind(b.Kind).Valid(), custodyEnds)
	v.Ident("prison", "prison", b.Prison, true)
	at := v.Time("at", b.At, true)
	return aggregates.EndCustody{Kind: aggregates.CustodyEndKind(b.Kind), Prison: b.Prison, At: at}, v.Err()
}

type draftPlanBody struct {
	Summary string `json:"summary"`
	At      string `json:"at"`
}

func (b *draftPlanBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	v.Text("summary", b.Summary, true, maxText)
	at := v.Time("at", b.At, true)
	return aggregates.DraftPlan{Summary: b.Summary, At: at}, v.Err()
}

type revisePlanBody struct {
	Summary string `json:"summary"`
	Reason  string `json:"reason"`
	At      string `json:"at"`
}

func (b *revisePlanBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	v.Text("summary", b.Summary, true, maxText)
	v.Text("reason", b.Reason, false, maxText)
	at := v.Time("at", b.At, true)
	return aggregates.RevisePlan{Summary: b.Summary, Reason: b.Reason, At: at}, v.Err()
}

type needBody struct {
	Description string `json:"description"`
	At          string `json:"at"`
}

func (b *needBody) Command(p CommandTarget) (aggregates.Command, error) {
	var v Validator
	v.Text("description", b.Description, true, maxText)
	at := v.Time("at", b.At, true)
	return aggregates.IdentifyNeed{Pathway: p.Pathway, Description: b.Description, At: at}, v.Err()
}

type pathwayStatusBody struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
	At     string `json:"at"`
}

func (b *pathwayStatusBody) Command(p CommandTarget) (aggregates.Command, error) {
	var v Validator
	st := aggregates.PathwayStatus(b.Status)
	v.Enum("status", b.Status, st.Valid(), statusNames)
	v.Text("reason", b.Reason, st.NeedsReason(), maxText)
	at := v.Time("at", b.At, true)
	return aggregates.ChangePathwayStatus{Pathway: p.Pathway, Status: st, Reason: b.Reason, At: at}, v.Err()
}

type agreeActionBody struct {
	ActionID    string `json:"actionId"`
	Pathway     string `json:"pathway"`
	Description string `json:"description"`
	Due         string `json:"due"`
	At          string `json:"at"`
}

func (b *agreeActionBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	v.Ident("actionId", "actionId", b.ActionID, true)
	v.Enum("pathway", b.Pathway, aggregates.Pathway(b.Pathway).Valid(), pathwayNames)
	v.Text("description", b.Description, true, maxText)
	due := v.Date("due", b.Due, false)
	at := v.Time("at", b.At, true)
	return aggregates.AgreeAction{ActionID: b.ActionID, Pathway: aggregates.Pathway(b.Pathway), Description: b.Description,
		Due: due, At: at}, v.Err()
}

type assignActionBody struct {
	Owner string `json:"owner"`
	At    string `json:"at"`
}

func (b *assignActionBody) Command(p CommandTarget) (aggregates.Command, error) {
	var v Validator
	owner := v.Org("owner", b.Owner, true)
	at := v.Time("at", b.At, true)
	return aggregates.AssignAction{ActionID: p.ActionID, Owner: owner, At: at}, v.Err()
}

type completeActionBody struct {
	Outcome string `json:"outcome"`
	At      string `json:"at"`
}

func (b *completeActionBody) Command(p CommandTarget) (aggregates.Command, error) {
	var v Validator
	v.Text("outcome", b.Outcome, true, maxText)
	at := v.Time("at", b.At, true)
	return aggregates.CompleteAction{ActionID: p.ActionID, Outcome: b.Outcome, At: at}, v.Err()
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

func (b *releaseDatesBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	d := aggregates.ReleaseDates{
		ConfirmedRelease:   v.Date("dates.confirmedReleaseDate", b.Dates.ConfirmedRelease, false),
		ActualParole:       v.Date("dates.actualParoleDate", b.Dates.ActualParole, false),
		HDCActual:          v.Date("dates.hdcActualDate", b.Dates.HDCActual, false),
		ConditionalRelease: v.Date("dates.conditionalReleaseDate", b.Dates.ConditionalRelease, false),
		AutomaticRelease:   v.Date("dates.automaticReleaseDate", b.Dates.AutomaticRelease, false),
	}
	if len(v.errs) == 0 && d.IsZero() {
		v.Add("dates", "at least one release date is required")
	}
	v.Text("reason", b.Reason, false, maxText)
	calc := v.Time("calculatedAt", b.CalculatedAt, false)
	at := v.Time("at", b.At, true)
	return aggregates.SetReleaseDates{Dates: d, Reason: b.Reason, CalculatedAt: calc, At: at}, v.Err()
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

func (b *sentenceBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	t := aggregates.SentenceType(b.Type)
	v.Enum("type", b.Type, t.Valid(), sentenceTypes)
	if b.LengthMonths < 0 || b.LengthMonths > 1200 {
		v.Add("lengthMonths", "must be 0 to 1200")
	}
	if b.LengthDays < 0 || b.LengthDays > 36500 {
		v.Add("lengthDays", "must be 0 to 36500")
	}
	sd := v.Date("sentenceDate", b.SentenceDate, true)
	od := v.Date("offenceDate", b.OffenceDate, false)
	at := v.Time("at", b.At, true)
	return aggregates.SentencePrisoner{Type: t, LengthMonths: b.LengthMonths, LengthDays: b.LengthDays, SentenceDate: sd,
		OffenceDate: od, Under18: b.Under18, At: at}, v.Err()
}

type recalculationBody struct {
	BookingID     string `json:"bookingId"`
	CalculationID string `json:"calculationId"`
	At            string `json:"at"`
}

func (b *recalculationBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	v.Ident("bookingId", "bookingId", b.BookingID, true)
	v.Ident("calculationId", "bookingId", b.CalculationID, true)
	at := v.Time("at", b.At, true)
	return aggregates.NoteSentenceRecalculation{BookingID: b.BookingID, CalculationID: b.CalculationID, At: at}, v.Err()
}

type metAtGateBody struct {
	By string `json:"by"`
	At string `json:"at"`
}

func (b *metAtGateBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	v.Text("by", b.By, true, maxShort)
	at := v.Time("at", b.At, true)
	return aggregates.RecordMetAtGate{By: b.By, At: at}, v.Err()
}

type contactBody struct {
	By   string `json:"by"`
	Kind string `json:"kind"`
	Note string `json:"note"`
	At   string `json:"at"`
}

func (b *contactBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	by := v.Org("by", b.By, true)
	v.Text("kind", b.Kind, true, maxShort)
	v.Text("note", b.Note, false, maxText)
	at := v.Time("at", b.At, true)
	return aggregates.RecordSupervisionContact{By: by, Kind: b.Kind, Note: b.Note, At: at}, v.Err()
}

type riskBody struct {
	Level string `json:"level"`
	At    string `json:"at"`
}

func (b *riskBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	v.Enum("level", b.Level, aggregates.RoSH(b.Level).Valid(), roshLevels)
	at := v.Time("at", b.At, true)
	return aggregates.AssessRisk{Level: aggregates.RoSH(b.Level), At: at}, v.Err()
}

type mappaBody struct {
	// Level is a pointer so that a missing level is told from level 0.
	Level *int   `json:"level"`
	At    string `json:"at"`
}

func (b *mappaBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	level := 0
	switch {
	case b.Level == nil:
		v.Add("level", "is required (0-3)")
	case *b.Level < 0 || *b.Level > 3:
		v.Add("level", "must be 0, 1, 2 or 3")
	default:
		level = *b.Level
	}
	at := v.Time("at", b.At, true)
	return aggregates.SetMAPPALevel{Level: level, At: at}, v.Err()
}

type breachBody struct {
	Description string `json:"description"`
	At          string `json:"at"`
}

func (b *breachBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	v.Text("description", b.Description, true, maxText)
	at := v.Time("at", b.At, true)
	return aggregates.RecordBreach{Description: b.Description, At: at}, v.Err()
}

type recallBody struct {
	Reason string `json:"reason"`
	At     string `json:"at"`
}

func (b *recallBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	v.Text("reason", b.Reason, true, maxText)
	at := v.Time("at", b.At, true)
	return aggregates.RecallPrisoner{Reason: b.Reason, At: at}, v.Err()
}

type reoffenceBody struct {
	Offence        string `json:"offence"`
	OffenceDate    string `json:"offenceDate"`
	ConvictionDate string `json:"convictionDate"`
	At             string `json:"at"`
}

func (b *reoffenceBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	v.Text("offence", b.Offence, true, maxText)
	od := v.Date("offenceDate", b.OffenceDate, true)
	cd := v.Date("convictionDate", b.ConvictionDate, true)
	at := v.Time("at", b.At, true)
	return aggregates.RecordProvenReoffence{Offence: b.Offence, OffenceDate: od, ConvictionDate: cd, At: at}, v.Err()
}

type crnBody struct {
	CRN string `json:"crn"`
	PNC string `json:"pnc"`
	At  string `json:"at"`
}

func (b *crnBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	v.Ident("crn", "crn", b.CRN, true)
	v.Ident("pnc", "pnc", b.PNC, false)
	at := v.Time("at", b.At, true)
	return aggregates.LinkCRN{CRN: b.CRN, PNC: b.PNC, At: at}, v.Err()
}

type correctionBody struct {
	CorrectsEventID string `json:"correctsEventId"`
	Field           string `json:"field"`
	Value           string `json:"value"`
	Reason          string `json:"reason"`
	At              string `json:"at"`
}

func (b *correctionBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	v.Ident("correctsEventId", "correctsEventId", b.CorrectsEventID, true)
	switch b.Field {
	case aggregates.FieldReceptionKind, aggregates.FieldReleaseKind, aggregates.FieldPrison:
		v.Text("value", b.Value, true, maxShort)
	case aggregates.FieldNote:
		v.Text("value", b.Value, false, maxText)
	default:
		v.Enum("field", b.Field, false, correctable)
	}
	v.Text("reason", b.Reason, true, maxText)
	at := v.Time("at", b.At, true)
	return aggregates.CorrectFact{CorrectsEventID: b.CorrectsEventID, Field: b.Field, Value: b.Value, Reason: b.Reason, At: at}, v.Err()
}

type closeBody struct {
	Reason string `json:"reason"`
	At     string `json:"at"`
}

func (b *closeBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	v.Enum("reason", b.Reason, aggregates.CloseReason(b.Reason).Valid(), closeReasons)
	at := v.Time("at", b.At, true)
	return aggregates.CloseJourney{Reason: aggregates.CloseReason(b.Reason), At: at}, v.Err()
}

type handoverBody struct {
	To     string `json:"to"`
	Reason string `json:"reason"`
	Due    string `json:"due"`
	At     string `json:"at"`
}

func (b *handoverBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	to := v.Org("to", b.To, true)
	v.Text("reason", b.Reason, true, maxText)
	due := v.Time("due", b.Due, false)
	at := v.Time("at", b.At, true)
	return aggregates.RequestHandover{To: to, Reason: b.Reason, Due: due, At: at}, v.Err()
}

type rejectBody struct {
	Reason string `json:"reason"`
	At     string `json:"at"`
}

func (b *rejectBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	v.Text("reason", b.Reason, true, maxText)
	at := v.Time("at", b.At, true)
	return aggregates.RejectHandover{Reason: b.Reason, At: at}, v.Err()
}

type releaseAreaBody struct {
	Area string `json:"area"`
	At   string `json:"at"`
}

func (b *releaseAreaBody) Command(CommandTarget) (aggregates.Command, error) {
	var v Validator
	v.Ident("area", "releaseArea", b.Area, true)
	at := v.Time("at", b.At, true)
	return aggregates.ChangeReleaseArea{Area: b.Area, At: at}, v.Err()
}

// CheckTarget checks t as the route's path parameters: the person's prison
// number always, the pathway and the action only where the route's path
// holds them. Every field at fault is reported at once.
func (c CommandRoute) CheckTarget(t CommandTarget) (CommandTarget, error) {
	var v Validator
	out := CommandTarget{NOMS: v.Ident("noms", "noms", t.NOMS, true)}
	if strings.Contains(c.Path, "{pathway}") {
		if !t.Pathway.Valid() {
			v.Add("pathway", "must be one of %s", pathwayNames)
		}
		out.Pathway = t.Pathway
	}
	if strings.Contains(c.Path, "{id}") {
		out.ActionID = v.Ident("id", "actionId", t.ActionID, true)
	}
	return out, v.Err()
}

// ErrUnknownCommand: DecodeCommand was given a name no command route has.
var ErrUnknownCommand = errors.New("request: unknown command")

// DecodeCommand builds the aggregate command named name (the route's
// operationId, such as "ReceivePrisoner") from body, the JSON the route
// takes, for target. It checks and decodes as the API's route does, so that
// a command sent from a form is refused exactly as one sent to /v1: the
// error of a bad body or target lists every field at fault (problem.Of).
func DecodeCommand(name string, target CommandTarget, body []byte) (aggregates.Command, error) {
	i := slices.IndexFunc(commandRoutes, func(c CommandRoute) bool { return c.Name == name })
	if i < 0 {
		return nil, ErrUnknownCommand
	}
	route := commandRoutes[i]
	t, err := route.CheckTarget(target)
	if err != nil {
		return nil, err
	}
	b := route.New()
	if err := jsonBytes(body, b); err != nil {
		return nil, err
	}
	return b.Command(t)
}
