package aggregates

import "strings"

// Org identifies an organisation by the code the rest of Gateledger uses as
// the user's organisation: a prison code ("MDI"), a CRC provider code ("C05",
// also the code of its contract package area), a 2014-2021 NPS division
// ("N03") or a 2021 NPS region ("NPS-D"). The empty Org means nobody.
type Org string

// OrgKind classifies an Org.
type OrgKind string

// Organisation kinds.
const (
	OrgUnknown     OrgKind = ""
	OrgPrison      OrgKind = "PRISON"
	OrgCRC         OrgKind = "CRC"
	OrgNPSDivision OrgKind = "NPS_DIVISION"
	OrgNPSRegion   OrgKind = "NPS_REGION"
)

// NPSRegionOrg returns the Org of a 2021 region letter A..L.
func NPSRegionOrg(region string) Org { return Org("NPS-" + region) }

// Kind classifies o by its format.
func (o Org) Kind() OrgKind {
	s := string(o)
	switch {
	case ValidPrisonCode(s):
		return OrgPrison
	case ValidProviderCode(s):
		return OrgCRC
	case ValidNPSDivision(s):
		return OrgNPSDivision
	case regionOrgPattern.MatchString(s):
		return OrgNPSRegion
	}
	return OrgUnknown
}

// Valid reports whether o has one of the known formats.
func (o Org) Valid() bool { return o.Kind() != OrgUnknown }

// IsNPS reports whether o is part of the National Probation Service.
func (o Org) IsNPS() bool { k := o.Kind(); return k == OrgNPSDivision || k == OrgNPSRegion }

// IsProvider reports whether o is a probation organisation (CRC or NPS)
// rather than a prison.
func (o Org) IsProvider() bool { k := o.Kind(); return k == OrgCRC || o.IsNPS() }

// Name is the organisation's name where it is one of the fixed probation
// organisations, and the code itself otherwise (prison names are reference
// data the ledger does not hold).
func (o Org) Name() string {
	if n, ok := cpas[string(o)]; ok {
		return n.name
	}
	if n, ok := npsDivisionNames[string(o)]; ok {
		return "NPS " + n
	}
	if r, ok := strings.CutPrefix(string(o), "NPS-"); ok {
		if n, ok := npsRegionNames[r]; ok {
			return "NPS " + n
		}
	}
	return string(o)
}
