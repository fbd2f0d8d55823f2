package projections

import (
	"github.com/gateledger/gateledger/aggregates"

	"github.com/gateledger/gateledger/projections/readmodel"
)

// All returns every read model in a fixed order (audit, plans, handovers, caseload,
// outcomes), built with policy. The order is the order of their buckets and of
// Runner.Status; it never changes, so tools can rely on it.
func All(policy aggregates.Policy) []readmodel.Projection {
	return []readmodel.Projection{NewAudit(), NewPlans(policy), NewHandovers(policy), NewCaseload(policy), NewOutcomes(policy)}
}
