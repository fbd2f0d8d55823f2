package aggregates

import (
	"fmt"
	"slices"
	"time"
)

// The organisation registry: which organisations exist on which UK date, of
// which kind, covering which areas. Decide consults it for every command that
// names an organisation (a handover's receiver, an action's owner, a release
// area), and ResponsibleFor uses it to carry cases across probation
// unification.
//
// Sources (domain brief, "Who gets what"): the 21 CRCs (C01-C21) and the 7 NPS
// divisions (N01-N07) existed from 1 June 2014 to 25 June 2021; the 12 NPS
// regions (A-L, org codes NPS-A..NPS-L) from 26 June 2021. The areas each
// covers come from the CPA table in allocation.go, so a CPA's division and
// region are written down once.
//
// Prisons: the ledger holds no prison list. Every well-formed three-letter
// code is a prison on every date, because the HMPPS feed, not the ledger, is
// the authority on which establishments exist (they open, close, merge and
// re-role; a stale list here would refuse real receptions and strand feed
// messages in the dead-letter queue), and because the rules that matter about
// prisons are about custody, not existence: only the prison holding the person
// may be handed the case or own an action, and no prison supervises anyone
// after release (see checkHolder). A handover to "ZZZ" is therefore refused as
// "not the prison holding the person", never accepted.

var (
	// TRStart is the first day of Transforming Rehabilitation's organisations
	// (CRCs and NPS divisions).
	TRStart = NewDate(2014, time.June, 1)
	// Unification is the first day of the unified probation service: CRCs and
	// NPS divisions ceased to exist at the end of 25 June 2021 and every case
	// they held is the NPS region's from this date.
	Unification = NewDate(2021, time.June, 26)
)

// Organisation is one probation organisation of the registry.
type Organisation struct {
	Code Org
	Kind OrgKind
	Name string
	// From is the first UK date it exists; Until the last, zero while it
	// still exists.
	From  Date
	Until Date
	// Areas are the contract package areas (CPA codes C01..C21) it covers.
	Areas []string
}

// ExistsOn reports whether the organisation exists on UK date d.
func (o Organisation) ExistsOn(d Date) bool {
	return !d.Before(o.From) && (o.Until.IsZero() || !d.After(o.Until))
}

// orgRegistry is Organisations by code, built once: Successor and Decide look
// organisations up for every event and command.
var orgRegistry = func() map[Org]Organisation {
	m := map[Org]Organisation{}
	for _, o := range Organisations() {
		m[o.Code] = o
	}
	return m
}()

// divisionMainRegion is mainRegionOf for every division, built once.
var divisionMainRegion = func() map[string]string {
	m := map[string]string{}
	for code := range npsDivisionNames {
		m[code] = mainRegionOf(code)
	}
	return m
}()

// Organisations lists every probation organisation the ledger knows, CRCs,
// then NPS divisions, then NPS regions, each in code order. The caller may
// change the result.
func Organisations() []Organisation {
	out := make([]Organisation, 0, len(cpas)+len(npsDivisionNames)+len(npsRegionNames))
	last := Unification.AddDays(-1)
	for _, code := range sortedKeys(cpas) {
		out = append(out, Organisation{Code: Org(code), Kind: OrgCRC, Name: cpas[code].name, From: TRStart, Until: last, Areas: []string{code}})
	}
	for _, code := range sortedKeys(npsDivisionNames) {
		out = append(out, Organisation{Code: Org(code), Kind: OrgNPSDivision, Name: "NPS " + npsDivisionNames[code], From: TRStart, Until: last,
			Areas: areasWhere(func(c cpa) bool { return c.division == code })})
	}
	for _, r := range sortedKeys(npsRegionNames) {
		out = append(out, Organisation{Code: NPSRegionOrg(r), Kind: OrgNPSRegion, Name: "NPS " + npsRegionNames[r], From: Unification,
			Areas: areasWhere(func(c cpa) bool { return c.region == r })})
	}
	return out
}

// LookupOrganisation returns the registry entry of a probation organisation,
// and false for a prison or an unknown code.
func LookupOrganisation(o Org) (Organisation, bool) {
	org, ok := orgRegistry[o]
	if ok {
		org.Areas = slices.Clone(org.Areas)
	}
	return org, ok
}

// OrgExistsOn reports whether o names an organisation that exists on UK date
// d: a well-formed prison code always does (see the registry's doc), a
// probation organisation between its From and Until.
func OrgExistsOn(o Org, d Date) bool {
	if o.Kind() == OrgPrison {
		return true
	}
	org, ok := orgRegistry[o]
	return ok && org.ExistsOn(d)
}

// checkExists refuses an organisation that does not exist on the UK date of
// at, naming the rule "organisation-must-exist".
func checkExists(field string, o Org, at time.Time) error {
	if err := validOrg(field, o); err != nil {
		return err
	}
	d := DateOf(at)
	if OrgExistsOn(o, d) {
		return nil
	}
	org := orgRegistry[o]
	when := fmt.Sprintf("from %s", ukDate(org.From))
	if !org.Until.IsZero() {
		when = fmt.Sprintf("from %s to %s", ukDate(org.From), ukDate(org.Until))
	}
	return rule("organisation-must-exist", ErrUnknownOrganisation, field, "%s (%s) does not exist on %s; it existed %s", o, org.Name, ukDate(d), when)
}

// checkHolder refuses an organisation that cannot take the case of j at at
// (a handover's receiver, an action's owner): it must exist on that date; a
// prison only while it holds the person (rule "prison-must-hold-person"), and
// never after release (rule "community-needs-probation"): a prison that does
// not hold someone can neither see nor act on the case.
func checkHolder(field string, j Journey, o Org, at time.Time) error {
	if err := checkExists(field, o, at); err != nil {
		return err
	}
	if o.Kind() != OrgPrison {
		return nil
	}
	if j.Custody == Released {
		return rule("community-needs-probation", ErrWrongOrganisation, field,
			"%s is a prison and the person was released on %s; only a probation organisation supervises in the community", o, ukDate(DateOf(j.ReleasedAt)))
	}
	if j.Custody != InCustody || j.Prison != string(o) {
		return rule("prison-must-hold-person", ErrWrongOrganisation, field, "%s does not hold the person (held by %s)", o, orNone(j.Prison))
	}
	return nil
}

// checkReleaseArea refuses a release area that is not an area on the UK date
// of at. A release area is a place, not a provider: a CPA code (C01..C21)
// names the same stretch of England and Wales on every date from 1 June 2014
// (the area outlived its company, and is finer than a region, so it still
// says which region, and before 2021 which CRC and division, is meant); from
// 26 June 2021 an NPS region code (NPS-A..NPS-L) may name the area as well,
// since that is how probation names places since unification.
func checkReleaseArea(area string, at time.Time) error {
	d := DateOf(at)
	switch Org(area).Kind() {
	case OrgCRC:
		if d.Before(TRStart) {
			return rule("release-area-must-exist", ErrUnknownOrganisation, "Area", "contract package areas start on %s, not %s", ukDate(TRStart), ukDate(d))
		}
		return nil
	case OrgNPSRegion:
		if d.Before(Unification) {
			return rule("release-area-must-exist", ErrUnknownOrganisation, "Area", "%s is a probation region, and regions exist from %s, not %s; name the contract package area (C01-C21)", area, ukDate(Unification), ukDate(d))
		}
		return nil
	}
	return wrapID(&IdentifierError{Field: "area", Value: area, Pattern: "C01-C21 (a contract package area) or NPS-A..NPS-L (a region, from 26 June 2021)"})
}

// regionOfArea is the NPS region (as an Org) covering a release area, "" if
// the area is unknown.
func regionOfArea(area string) Org {
	if c, ok := cpas[area]; ok {
		return NPSRegionOrg(c.region)
	}
	if Org(area).Kind() == OrgNPSRegion {
		return Org(area)
	}
	return ""
}

// Successor is the organisation that holds, on UK date d, a case that o
// held: o itself while it exists, and from probation unification (26 June
// 2021) the NPS region of its area for a CRC (every case a CRC held moved to
// the region of its CPA) or for an NPS division the region of the case's
// release area when the division covered it, otherwise the region covering
// most of the division's areas. Unification is derived here rather than
// recorded as events: it happened on one date for every case, it needs no
// scheduler, no migration of stored streams and no writes by several
// instances at midnight, and every reader (ResponsibleFor, hence the
// caseload, the plans and the authorisation policy) applies it the same way.
func Successor(o Org, releaseArea string, d Date) Org {
	if d.Before(Unification) {
		return o
	}
	switch o.Kind() {
	case OrgCRC:
		return NPSRegionOrg(cpas[string(o)].region)
	case OrgNPSDivision:
		if c, ok := cpas[releaseArea]; ok && c.division == string(o) {
			return NPSRegionOrg(c.region)
		}
		return NPSRegionOrg(divisionMainRegion[string(o)])
	}
	return o
}

// mainRegionOf is the region covering most of a division's CPAs (the first
// by letter on a tie).
func mainRegionOf(division string) string {
	count := map[string]int{}
	for _, c := range cpas {
		if c.division == division {
			count[c.region]++
		}
	}
	best := ""
	for _, r := range sortedKeys(count) {
		if count[r] > count[best] {
			best = r
		}
	}
	return best
}

func areasWhere(keep func(cpa) bool) []string {
	var out []string
	for _, code := range sortedKeys(cpas) {
		if keep(cpas[code]) {
			out = append(out, code)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func orNone(s string) string {
	if s == "" {
		return "nobody"
	}
	return s
}
