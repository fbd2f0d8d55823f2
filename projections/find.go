package projections

import (
	"bytes"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// PeopleWithCRN returns the prison numbers of the people whose journeys are linked to
// the probation case reference crn, in order. It reads the caseload rows, which carry
// the CRN, so it finds only people some organisation can see; a person seen by
// several organisations is listed once. No index is kept for it: one scan compares
// the CRN bytes of each row without decoding it, which is enough for an inspector's
// search over a region's caseloads.
func PeopleWithCRN(r *readmodel.Runner, crn string) ([]string, error) {
	var out []string
	err := r.View(CaseloadName, func(b *bolt.Bucket) error {
		rows := b.Bucket(caseRows)
		if rows == nil {
			return nil
		}
		want := []byte(crn)
		return rows.ForEach(func(k, v []byte) error {
			if len(v) <= caseHeaderLen {
				return nil
			}
			n := int(v[caseHeaderLen])
			if n != len(want) || len(v) < caseHeaderLen+1+n || !bytes.Equal(v[caseHeaderLen+1:caseHeaderLen+1+n], want) {
				return nil
			}
			if i := bytes.IndexByte(k, 0); i >= 0 {
				out = append(out, string(k[i+1:]))
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// PlanOf is the plan view of a journey as folded (for example by AsAt), with
// deadlines derived under policy and overdue flags decided at now. It has no
// history: the plans read model keeps that for the current state only.
func PlanOf(j aggregates.Journey, now time.Time, policy aggregates.Policy) PlanView {
	st := storedPlanOf(&j, 0, uint64(max(j.Version-1, 0)), policy)
	return buildPlanView(st, nil, now, policy)
}
