package labels

// rules says, for each journey rule (the slug of an aggregates.RuleError),
// what to do next, in words a member of staff can act on. The rule error's
// own detail says what the record holds (dates in UK time); this says what
// to change. A rule missing here gets the generic advice in Rule.
var rules = map[string]string{
	"invalid-value":                     "Check the value and send it again.",
	"unknown-command":                   "Use one of the ledger's commands.",
	"requires-reception":                "Record the person's reception into custody first.",
	"requires-release":                  "Record the person's release first.",
	"dates-in-order":                    "Check the dates: each must come after the ones it follows.",
	"no-future-facts":                   "Enter a date and time that is now or in the past.",
	"plausible-dates":                   "Check the year: the ledger records facts from 1 June 2014.",
	"recall-needs-licence":              "Only a person released on licence can be recalled: check how the person was released.",
	"supervision-needs-sentence":        "No supervision followed this release: close the record with another reason.",
	"release-dates-need-sentence":       "Record the person's sentence first: a remand prisoner has no release dates.",
	"release-dates-by-calculation-time": "A newer calculation is already recorded: check the calculation date, and record only the latest.",
	"journey-closed":                    "Record a new reception first if the person is back in custody.",
	"journey-ended-by-death":            "Only history dated before the death can be recorded. Check the date with the prison.",
	"before-first-reception":            "Check the date: it is before the person's first reception in this record, so this record cannot take it.",
	"not-in-that-prison":                "Check which prison holds the person now, and record the movement from that prison.",
	"not-in-prison":                     "Record the person's return to prison first.",
	"not-in-custody":                    "Record the person's return to custody (a recall or reception) first.",
	"no-custody-events-after-release":   "Record a new reception or a recall first.",
	"no-reception-in-custody":           "The person is already in custody: record a transfer instead, or check the prison number.",
	"conflicting-duplicate":             "A movement at the same time and place is already recorded. Check which is right, and record a correction if needed.",
	"screen-once-per-custody":           "Screening is already recorded for this custody period. Nothing more to do.",
	"plan-requires-screening":           "Record custody screening part 1 first.",
	"one-plan-per-custody":              "A plan is already drafted: revise it instead.",
	"revise-requires-plan":              "Draft the resettlement plan first.",
	"revision-needs-reason":             "Say why the plan changed.",
	"one-open-need-per-pathway":         "This pathway already has an open need: change its status instead.",
	"declined-needs-reason":             "Say why support is declined or not required.",
	"action-requires-need":              "Identify a need on this pathway first.",
	"action-ids-unique":                 "This action is already agreed: use another action id.",
	"action-must-exist":                 "Agree the action first, or check its id.",
	"completed-actions-are-final":       "The action is already completed: agree a new action instead.",
	"handover-needs-reason":             "Say why responsibility should move.",
	"one-open-handover":                 "Wait for the open handover to be accepted or rejected first.",
	"decide-open-handover":              "There is no handover waiting for a decision. Reload the page to see the latest.",
	"rejection-needs-reason":            "Say why the handover is rejected.",
	"met-at-gate-once":                  "Being met at the gate is already recorded. Nothing more to do.",
	"recall-needs-reason":               "Say why the licence was revoked.",
	"one-recall-at-a-time":              "The licence is already revoked: record the recall reception next.",
	"reoffence-requires-release":        "A proven reoffence can only be recorded after a release.",
	"supervision-needs-release":         "Record the person's release first.",
	"close-after-supervision":           "Wait until supervision ends, or close the journey for another reason.",
	"one-crn":                           "A CRN is already linked: record a correction instead.",
	"one-pnc":                           "A PNC number is already linked: record a correction instead.",
	"crn-belongs-to-one-person":         "This CRN belongs to another person. Check the CRN.",
	"correction-needs-reason":           "Say what was wrong.",
	"prison-number-merged":              "This prison number was merged into another: record it against the number it was merged into.",
	"merged-once":                       "This prison number is already merged. Nothing more to do.",
	"organisation-must-exist":           "Check the organisation code and the date: the organisation must exist on that date.",
	"community-needs-probation":         "Name a probation provider for a person in the community.",
	"prison-must-hold-person":           "Name the prison that holds the person.",
	"release-area-must-exist":           "Check the release area: it must exist on that date.",
}

// Rule says what to do next when the journey rule slug refuses a command.
func Rule(slug string) string {
	if s, ok := rules[slug]; ok {
		return s
	}
	return "Check the person's record, then try again."
}

// KnownRule reports whether the table has words for slug.
func KnownRule(slug string) bool {
	_, ok := rules[slug]
	return ok
}
