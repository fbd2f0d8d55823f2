package aggregates

import (
	"sort"
	"time"
)

// cpa is a contract package area of the 2014-2021 model, named by its CRC's
// provider code, with the NPS division and 2021 region that cover it.
type cpa struct {
	name     string
	division string // N01..N07
	region   string // A..L
}

// cpas maps each CPA (CRC provider code) to the NPS division that held its
// high-risk cases before 26 June 2021 and the probation region that took its
// cases over from that date.
//
// Divisions follow the published NPS division boundaries. Regions follow the
// 2021 probation regions; four CPAs straddle two regions and are assigned to
// the region holding most of their population: C04 (Humber, Lincolnshire and
// North Yorkshire) to C Yorkshire and the Humber although Lincolnshire went to
// F East Midlands; C07 (Cheshire and Greater Manchester) to L Greater
// Manchester although Cheshire went to B North West; C13 (Bedfordshire,
// Northamptonshire, Cambridgeshire and Hertfordshire) to I East of England
// although Northamptonshire went to F East Midlands; C12 (Warwickshire and
// West Mercia) to E West Midlands. A person whose address lies in the
// minority part gets the right region by a handover, which the ledger records.
var cpas = map[string]cpa{
	"C01": {"Northumbria", "N02", "A"},
	"C02": {"Cumbria and Lancashire", "N01", "B"},
	"C03": {"Durham Tees Valley", "N02", "A"},
	"C04": {"Humber, Lincolnshire and North Yorkshire", "N02", "C"},
	"C05": {"West Yorkshire", "N02", "C"},
	"C06": {"Merseyside", "N01", "B"},
	"C07": {"Cheshire and Greater Manchester", "N01", "L"},
	"C08": {"Derbyshire, Leicestershire, Nottinghamshire and Rutland", "N04", "F"},
	"C09": {"South Yorkshire", "N02", "C"},
	"C10": {"Wales", "N03", "D"},
	"C11": {"Staffordshire and West Midlands", "N04", "E"},
	"C12": {"Warwickshire and West Mercia", "N04", "E"},
	"C13": {"Bedfordshire, Northamptonshire, Cambridgeshire and Hertfordshire", "N06", "I"},
	"C14": {"Norfolk and Suffolk", "N06", "I"},
	"C15": {"Bristol, Gloucestershire, Somerset and Wiltshire", "N05", "G"},
	"C16": {"Thames Valley", "N05", "H"},
	"C17": {"London", "N07", "J"},
	"C18": {"Essex", "N06", "I"},
	"C19": {"Dorset, Devon and Cornwall", "N05", "G"},
	"C20": {"Hampshire and Isle of Wight", "N05", "H"},
	"C21": {"Kent, Surrey and Sussex", "N06", "K"},
}

var npsDivisionNames = map[string]string{
	"N01": "North West", "N02": "North East", "N03": "Wales", "N04": "Midlands",
	"N05": "South West and South Central", "N06": "South East and Eastern", "N07": "London",
}

var npsRegionNames = map[string]string{
	"A": "North East", "B": "North West", "C": "Yorkshire and the Humber", "D": "Wales",
	"E": "West Midlands", "F": "East Midlands", "G": "South West", "H": "South Central",
	"I": "East of England", "J": "London", "K": "Kent, Surrey and Sussex", "L": "Greater Manchester",
}

// NPSDivisionFor returns the 2014-2021 NPS division (N01..N07) covering a
// CPA, and false for an unknown CPA.
func NPSDivisionFor(cpaCode string) (string, bool) {
	c, ok := cpas[cpaCode]
	return c.division, ok
}

// NPSRegionFor returns the 2021 probation region letter (A..L) covering a
// CPA, and false for an unknown CPA.
func NPSRegionFor(cpaCode string) (string, bool) {
	c, ok := cpas[cpaCode]
	return c.region, ok
}

// ModelKind names one of the allocation rules the ledger knows.
type ModelKind string

// Allocation rules.
const (
	// ModelSplit2014 is Transforming Rehabilitation: the CRC of the release
	// area's CPA for LOW and MEDIUM RoSH, the NPS division for HIGH and
	// VERY_HIGH RoSH and for any MAPPA case.
	ModelSplit2014 ModelKind = "SPLIT_2014"
	// ModelUnified2021 is the unified model: the NPS region of the release
	// area is responsible for every case; providers only deliver services.
	ModelUnified2021 ModelKind = "UNIFIED_2021"
)

// AllocationModel is an allocation rule with the date it took effect. It is
// in force from EffectiveFrom until the next model's EffectiveFrom.
type AllocationModel struct {
	Name          string
	Kind          ModelKind
	EffectiveFrom Date
}

// AllocationPolicy is the sequence of models, in any order.
type AllocationPolicy []AllocationModel

// DefaultAllocation is the history of England and Wales: the split model from
// 1 June 2014 (Transforming Rehabilitation; CRCs took over 1 February 2015
// but the NPS/CRC split dates from June 2014) and the unified model from 26
// June 2021.
func DefaultAllocation() AllocationPolicy {
	return AllocationPolicy{
		{Name: "Transforming Rehabilitation (NPS/CRC split)", Kind: ModelSplit2014, EffectiveFrom: NewDate(2014, time.June, 1)},
		{Name: "Unified probation service", Kind: ModelUnified2021, EffectiveFrom: NewDate(2021, time.June, 26)},
	}
}

// ModelAt returns the model in force at t (by t's UK date: a release at
// 23:30 UTC on 25 June 2021 is on 26 June in the UK and falls under the
// unified model), and false before the first model.
func (p AllocationPolicy) ModelAt(t time.Time) (AllocationModel, bool) {
	ms := append(AllocationPolicy(nil), p...)
	sort.Slice(ms, func(i, j int) bool { return ms[i].EffectiveFrom.Before(ms[j].EffectiveFrom) })
	d := DateOf(t)
	var found AllocationModel
	ok := false
	for _, m := range ms {
		if !d.Before(m.EffectiveFrom) {
			found, ok = m, true
		}
	}
	return found, ok
}

// Allocate is who the model makes responsible for a case with this release
// area (a CPA code, or under the unified model also a region NPS-A..NPS-L),
// RoSH level and MAPPA level (0 for none). It returns "" when the release
// area is not known, because every answer depends on it.
func (m AllocationModel) Allocate(area string, rosh RoSH, mappa int) Org {
	c, ok := cpas[area]
	if !ok {
		if m.Kind == ModelUnified2021 {
			return regionOfArea(area)
		}
		return ""
	}
	switch m.Kind {
	case ModelSplit2014:
		if rosh.AtLeastHigh() || mappa > 0 {
			return Org(c.division)
		}
		return Org(area)
	case ModelUnified2021:
		return NPSRegionOrg(c.region)
	}
	return ""
}

// Allocate is who the policy makes responsible at t for a journey's current
// release area and risk.
func (p AllocationPolicy) Allocate(j Journey, at time.Time) Org {
	m, ok := p.ModelAt(at)
	if !ok {
		return ""
	}
	return m.Allocate(j.ReleaseArea, j.RoSH, j.MAPPA)
}

// ResponsibleFor is the organisation accountable for the journey at time at,
// the one answer the plan, the caseload, the authorisation policy and Decide
// all use: the receiving side of the last handover accepted at or before at
// when that is a probation organisation, or, if none (or it was a prison),
// the prison holding the person at that time (after a release,
// the prison that released them, until a handover is accepted), carried
// across probation unification by Successor. Responsibility starts in custody
// and moves only by a recorded handover or by unification, so it is never
// lost.
func ResponsibleFor(j Journey, at time.Time) Org {
	var org Org
	for _, h := range j.Handovers {
		if h.Status == HandoverStatusAccepted && !h.DecidedAt.After(at) {
			org = h.To
		}
	}
	// A prison holds a case by holding the person: a case handed to a prison
	// follows the person to the next prison, or the prison that holds them
	// could not see it (and the one that did would no longer hold them).
	if org == "" || org.Kind() == OrgPrison {
		if at.Before(j.LastMovementAt) {
			org = Org(j.prisonAt(at))
		} else {
			// The present state describes every time from the last
			// movement on; after a release the prison that released the
			// person stays accountable until a handover is accepted.
			org = Org(j.Prison)
		}
	}
	return Successor(org, j.ReleaseArea, DateOf(at))
}

// present stands for "now" in Responsible: the ledger runs after the last
// change of organisations the registry knows (probation unification, 26 June
// 2021), so the present answer does not depend on the clock, and read models
// built from events alone (the caseload, the plans) agree with the
// authorisation policy without one.
var present = time.Date(9999, time.December, 31, 0, 0, 0, 0, time.UTC)

// Responsible is the organisation accountable now: ResponsibleFor(j,
// present).
func (j Journey) Responsible() Org { return ResponsibleFor(j, present) }

// HandoverNeeded reports the organisation the policy says should hold the
// case at time at when that differs from the one that does and no handover is
// open: the work queue for cases whose automatic handover could not be
// requested (for example, because another was open at the time).
func (j Journey) HandoverNeeded(p Policy, at time.Time) (Org, bool) {
	if j.Custody == NotReceived || j.Closed || j.MergedInto != "" || j.OpenHandover() != nil {
		return "", false
	}
	// After a release that starts no supervision (a remand discharge) no
	// probation organisation takes the case.
	if j.Custody == Released && !j.SupervisionAfterRelease(p).Runs {
		return "", false
	}
	target := p.Allocation.Allocate(j, at)
	if target == "" || target == ResponsibleFor(j, at) {
		return "", false
	}
	// A handover accepted that was asked for after the facts the policy
	// reads last changed was a decision on those facts (a case placed by
	// hand with another region, say): it is not second-guessed. A rule's
	// handover that was blocked or rejected is older than the fact that
	// required it, so it still shows.
	for i := len(j.Handovers) - 1; i >= 0; i-- {
		h := j.Handovers[i]
		if h.Status == HandoverStatusAccepted && !h.DecidedAt.After(at) {
			if !h.RequestedAt.Before(j.AllocationChangedAt) && h.To.IsProvider() {
				return "", false
			}
			break
		}
	}
	return target, true
}

// CanSee reports whether org may see the journey: the responsible
// organisation, both sides of an open handover, and the prison that holds the
// person now. Inspectors are decided by the caller.
func (j Journey) CanSee(org string) bool {
	if org == "" {
		return false
	}
	o := Org(org)
	if o == j.Responsible() {
		return true
	}
	if h := j.OpenHandover(); h != nil && (h.From == o || h.To == o) {
		return true
	}
	return j.Custody == InCustody && j.Prison == org
}
