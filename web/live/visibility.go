package live

import (
	"strings"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
)

// MaySeeJourneyEvent is the rule for one journey event: p receives it when p
// may read the journey as it was just before the event OR as it is just
// after it (auth.CanReadJourney on both states).
//
// Why both sides:
//
//   - "after" alone would hide the event that ends a principal's access:
//     the old provider would never learn that its HandoverAccepted
//     happened, and a prison would not see the release or transfer that
//     takes the person away from it. Those events are about the principal's
//     own case, and it needs them to stop work on it.
//   - "before" alone would hide the event that starts access: the receiving
//     provider would miss the HandoverRequested that lets it decide, and a
//     prison the reception that brings the person in.
//   - Neither side ever shows an event of a journey the principal could see
//     at no point around it, so no organisation receives another's cases:
//     after a handover away from it is accepted, a provider sees nothing
//     (the journey before and after each later event is one it may not
//     read) until, if ever, the case is handed back.
//
// The decision depends only on the journey's history up to the event, never
// on when or from where the connection subscribed, so a client resuming
// from a position gets exactly the events a full read would have given it.
func MaySeeJourneyEvent(p auth.Principal, before, after aggregates.Journey) bool {
	return auth.CanReadJourney(p, before) || auth.CanReadJourney(p, after)
}

// deadLetterPrefix starts the streams where the HMPPS feed puts messages it
// could not ingest (ingest.DefaultDeadLetterStream is one of them). The
// constant is repeated here rather than imported so that this package does
// not depend on the ingestion code.
const deadLetterPrefix = "deadletter-"

// inspectorStreamPrefixes are the streams other than journeys an inspector
// receives: the access log (auth.CanReadAccessLog: who read what) and the
// dead letters (HMPPS messages about people that could not be matched to a
// journey: inspectors read everything about people). Anything else, notably
// the token stream auth-tokens (credential hashes are operators' business,
// not inspectors') and any stream added later, is never sent: the list is an
// allow-list so that a new stream is private until someone decides otherwise.
var inspectorStreamPrefixes = []string{auth.AccessLogPrefix, deadLetterPrefix}

// MaySeeOtherStream reports whether p receives an event of a stream that is
// not a journey. Only inspectors do, and only of the access log and dead
// letters; system streams (starting with "$") never.
func MaySeeOtherStream(p auth.Principal, stream string) bool {
	if !auth.CanReadAccessLog(p) || strings.HasPrefix(stream, "$") {
		return false
	}
	for _, prefix := range inspectorStreamPrefixes {
		if strings.HasPrefix(stream, prefix) {
			return true
		}
	}
	return false
}

// journeyStreamPrefix is aggregates.StreamName("") : "journey-".
var journeyStreamPrefix = aggregates.StreamName("")

// seesEveryJourney reports whether p may read every journey whatever its
// state (inspectors), so that the feed need not fold journeys for it.
func seesEveryJourney(p auth.Principal) bool {
	return p.Role == auth.RoleInspector && auth.CanReadJourney(p, aggregates.Journey{})
}

// readsAnyJourney reports whether p's role may read some journey at all; the
// upgrade refuses roles that may read none (feed, admin), which would only
// hold a subscription open for nothing.
func readsAnyJourney(p auth.Principal) bool {
	if p.Validate() != nil {
		return false
	}
	switch p.Role {
	case auth.RoleInspector, auth.RoleProvider, auth.RolePrison:
		return true
	}
	return false
}
