package aggregates

import "time"

// Reoffending cohorts (payment by results): who is measured, and against
// which provider. The outcomes read model and every test that recomputes its
// figures call these, so membership is decided in one place.

// cohortReleaseKinds are the release kinds that end custody in the
// community under supervision or at sentence end. A kind not listed here
// (a move to hospital, and any kind added later for a death in custody or a
// removal) is not a release into the community and makes no cohort member
// unless it is added here on purpose.
var cohortReleaseKinds = map[ReleaseKind]bool{
	ReleaseOnLicence:   true,
	ReleaseHDC:         true,
	ReleaseECSL:        true,
	ReleaseSentenceEnd: true,
	ReleaseDischarged:  true,
}

// InReoffendingCohort reports whether the journey's current release (the
// state just after it is folded) makes the person a member of a reoffending
// cohort: they were released into the community (see cohortReleaseKinds: a
// move to a secure hospital, a death in custody or a removal is not), from a
// sentence or a recall rather than from remand (a remand discharge, on bail,
// acquittal or time served, is in no cohort: domain brief, "Who gets what"),
// Membership is decided at the release, by the release: a death or removal
// ends custody without a release into the community and so never makes a
// member; what happens to someone after a community release is what the
// cohort measures, and does not take them out of it.
//
// A remand prisoner who was sentenced (PrisonerSentenced) before release is
// a sentenced prisoner and is counted; OnRemand is the one test. ADMISSION
// receptions, where the feed did not say remand or sentence, are counted: a
// correction to REMAND (FactCorrected) takes the person out.
func (j Journey) InReoffendingCohort() bool {
	if j.ReleasedAt.IsZero() || !cohortReleaseKinds[j.ReleaseKind] || j.OnRemand() {
		return false
	}
	return true
}

// CohortProvider is the probation organisation whose cohort a release at
// releasedAt belongs to: the one the allocation policy in force on the
// release's UK date names for the case as it stands (release area, RoSH,
// MAPPA), since payment follows the contract; failing that (no release area
// yet), the probation organisation responsible at release or, later, the
// first to take the case. It is "" while no probation organisation is known:
// a prison is never a provider in outcome tables.
func (j Journey) CohortProvider(p Policy, releasedAt time.Time) Org {
	if o := p.Allocation.Allocate(j, releasedAt); o.IsProvider() {
		return o
	}
	if o := ResponsibleFor(j, releasedAt); o.IsProvider() {
		return o
	}
	for _, h := range j.Handovers {
		if h.Status == HandoverStatusAccepted && !h.DecidedAt.Before(releasedAt) && h.To.IsProvider() {
			return h.To
		}
	}
	return ""
}
