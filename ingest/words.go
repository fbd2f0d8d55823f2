package ingest

import (
	"fmt"
	"strings"
)

// Words for people about dead letters: the one table of labels the API, the
// pages and `gateledger import` use, so that a reason reads the same wherever
// it is shown.

// reasonLabels label every Reason*.
var reasonLabels = map[string]string{
	ReasonMalformed:         "The message could not be read",
	ReasonUnmappable:        "The ledger does not know what this movement means",
	ReasonRejected:          "The person's record could not take it yet",
	ReasonUnreadableJourney: "The person's record was written by a newer version of the ledger",
}

// Reasons lists every dead-letter reason, in a stable order.
func Reasons() []string {
	return []string{ReasonMalformed, ReasonUnmappable, ReasonRejected, ReasonUnreadableJourney}
}

// ValidReason reports whether s is a dead-letter reason.
func ValidReason(s string) bool {
	_, ok := reasonLabels[s]
	return ok
}

// ReasonLabel is a reason in words ("" for "").
func ReasonLabel(reason string) string {
	if l, ok := reasonLabels[reason]; ok {
		return l
	}
	return sentence(reason)
}

// stateLabels label every state.
var stateLabels = map[DeadLetterState]string{
	StateOpen:      "Waiting",
	StateResolved:  "Applied",
	StateDiscarded: "Discarded",
}

// StateLabel is a state in words.
func StateLabel(s DeadLetterState) string {
	if l, ok := stateLabels[s]; ok {
		return l
	}
	return sentence(string(s))
}

// ruleWords say, for the journey rules a feed message most often meets, what
// happened and what happens next.
var ruleWords = map[string][2]string{
	"requires-reception": {"It arrived before the person's reception into custody was recorded.",
		"It is applied by itself when the reception arrives. If the reception will never come, discard it and say why."},
	"conflicting-duplicate": {"It describes a movement already recorded at the same time and place, but says something different.",
		"Check which message is right with the prison. Discard this one if the recorded movement is right."},
	"no-future-facts": {"It says the movement happened in the future.",
		"Check the message's date with the sender, then discard it or redrive it once the date has passed."},
	"no-custody-events-after-release": {"It is a custody movement for a person the record shows as released.",
		"It is applied by itself if a reception arrives first. Otherwise check with the prison, then discard it and say why."},
	"no-reception-in-custody": {"It is a reception of a person the record shows as already in custody.",
		"Check with the prison where the person is, then discard it and say why."},
	"journey-closed": {"The person's record is closed.", "Discard it and say why, unless the record should not have been closed."},
	"before-first-reception": {"It is dated before the person's first reception in this record: it belongs to an earlier custody the ledger did not record.",
		"Nothing in this record can take it. Discard it and say why."},
	"not-in-that-prison": {"It is a movement out of a prison that does not hold the person now.",
		"It is applied by itself if a transfer into that prison arrives first. Otherwise check with the prison, then discard it and say why."},
	"journey-ended-by-death": {"The person's record shows that they died in custody.",
		"Check with the prison. Only history dated before the death can be recorded: discard it and say why."},
	"not-in-custody": {"It is a custody movement for a person the record shows as unlawfully at large.",
		"It is applied by itself once the person's return to custody is recorded."},
	"not-in-prison": {"It is a movement for a person the record shows in a secure hospital or an immigration removal centre.",
		"It is applied by itself once the person's return to prison is recorded."},
}

// Explain says, in words for people, what stopped the letter and what to do
// next.
func Explain(d DeadLetter) (what, next string) {
	switch d.Reason {
	case ReasonMalformed:
		return "The message is not a domain event the ledger can read.",
			"Check the message with the sender. Discard it and say why if it can never be applied."
	case ReasonUnmappable:
		what = "The ledger does not know what this custody movement means, so it did not guess."
		if d.MovementCode != "" {
			what = fmt.Sprintf("The ledger does not know what movement code %s means, so it did not guess.", d.MovementCode)
		}
		return what, "Find out what the movement was. When the ledger has been taught the code, redrive it; or discard it and say why."
	case ReasonUnreadableJourney:
		return "The person's record holds events this version of the ledger cannot read.",
			"Upgrade every ledger instance, then redrive it."
	}
	if w, ok := ruleWords[d.Rule]; ok {
		return w[0], w[1]
	}
	what = "The person's record refused it"
	if d.Rule != "" {
		what += " (" + strings.ToLower(sentence(d.Rule)) + ")"
	}
	return what + ".", "It is tried again by itself whenever the person's record changes. Redrive it once the record is right, or discard it and say why."
}

// StepLabel is a step of a letter's history in words.
func StepLabel(eventType string) string {
	switch eventType {
	case TypeDeadLetterRecorded:
		return "Could not be applied"
	case TypeDeadLetterSeenAgain:
		return "Delivered again, could not be applied"
	case TypeDeadLetterRedriveFailed:
		return "Tried again, could not be applied"
	case TypeDeadLetterResolved:
		return "Applied"
	case TypeDeadLetterDiscarded:
		return "Discarded"
	}
	return eventType
}

// sentence turns a slug such as "requires-release" into "Requires release".
func sentence(s string) string {
	s = strings.NewReplacer("-", " ", "_", " ").Replace(strings.ToLower(s))
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
