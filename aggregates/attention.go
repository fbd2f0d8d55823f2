package aggregates

// Needs are the reasons, decided from the facts alone, that a case needs
// someone to act because accountability is at risk (domain brief, "Who gets
// what": where a rule says responsibility should move and it has not, the
// case shows that it needs attention until someone acts). The caseload shows
// them on the rows of the responsible organisation and of the one that should
// take the case; the plan view shows them too. Reasons that depend on the
// clock (overdue deadlines) are decided by the read models at query time.
type Needs struct {
	// HandoverTo is the organisation that should take the case: the
	// allocation policy names it, it is not responsible, and no handover to
	// it can be decided (none is open, the last was rejected, or the open
	// one was overtaken by probation unification). "" when none.
	HandoverTo Org
	// HandoverRejected: the last handover to HandoverTo was rejected.
	HandoverRejected bool
	// HandoverOvertaken: the open handover asks an organisation that no
	// longer exists (a CRC or NPS division after 25 June 2021); it cannot be
	// accepted, so it must be rejected and the successor asked.
	HandoverOvertaken bool
	// NoReleaseArea: released, supervision follows, and no release area is
	// recorded, so no rule can name the probation organisation; the prison
	// that released the person holds the case until one is recorded.
	NoReleaseArea bool
}

// Any reports whether the case needs attention for any of these reasons.
func (n Needs) Any() bool { return n != Needs{} }

// Needs derives what the case needs now (see Responsible for why "now" is
// the same for every reader) under policy p. It clears when the fact that
// resolves each reason is recorded: a handover requested or accepted, a
// release area recorded, the journey closed.
func (j Journey) Needs(p Policy) Needs {
	var n Needs
	if j.Custody == NotReceived || j.Closed || j.MergedInto != "" {
		return n
	}
	if h := j.OpenHandover(); h != nil && !OrgExistsOn(h.To, DateOf(present)) {
		n.HandoverOvertaken = true
		n.HandoverTo = Successor(h.To, j.ReleaseArea, DateOf(present))
	}
	if to, ok := j.HandoverNeeded(p, present); ok {
		n.HandoverTo = to
		for i := len(j.Handovers) - 1; i >= 0; i-- {
			if j.Handovers[i].To == to || Successor(j.Handovers[i].To, j.ReleaseArea, DateOf(present)) == to {
				n.HandoverRejected = j.Handovers[i].Status == HandoverStatusRejected
				break
			}
		}
	}
	if j.Custody == Released && j.ReleaseArea == "" && j.SupervisionAfterRelease(p).Runs && !j.Responsible().IsProvider() {
		n.NoReleaseArea = true
	}
	return n
}
