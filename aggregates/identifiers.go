package aggregates

import (
	"fmt"
	"regexp"
	"strings"
)

// Identifier formats from domain.md. Package-level regexps are immutable.
var (
	nomsPattern        = regexp.MustCompile(`^[A-Z][0-9]{4}[A-Z]{2}$`)
	crnPattern         = regexp.MustCompile(`^[A-Z][0-9]{6}$`)
	pncPattern         = regexp.MustCompile(`^([0-9]{2}|[0-9]{4})/[0-9]+[A-Z]$`)
	prisonPattern      = regexp.MustCompile(`^[A-Z]{3}$`)
	bookingPattern     = regexp.MustCompile(`^[0-9]{1,18}$`)
	providerPattern    = regexp.MustCompile(`^C(0[1-9]|1[0-9]|2[01])$`)
	divisionPattern    = regexp.MustCompile(`^N0[1-7]$`)
	regionPattern      = regexp.MustCompile(`^[A-L]$`)
	regionOrgPattern   = regexp.MustCompile(`^NPS-[A-L]$`)
	releaseAreaPattern = regexp.MustCompile(`^(C(0[1-9]|1[0-9]|2[01])|NPS-[A-L])$`)
	uuidPattern        = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	actionIDPattern    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	streamPrefix       = "journey-"
	identifierFormats  = map[string]*regexp.Regexp{
		"noms":            nomsPattern,
		"crn":             crnPattern,
		"pnc":             pncPattern,
		"prison":          prisonPattern,
		"bookingId":       bookingPattern,
		"providerCode":    providerPattern,
		"npsDivision":     divisionPattern,
		"npsRegion":       regionPattern,
		"releaseArea":     releaseAreaPattern,
		"correctsEventId": uuidPattern,
		"actionId":        actionIDPattern,
	}
)

// ValidNOMS reports whether s is a prison number such as A4092EA.
func ValidNOMS(s string) bool {
	// By hand rather than by nomsPattern: read models test every event's stream name,
	// and the regexp was a tenth of decoding an event. FuzzValidNOMSMatchesPattern keeps
	// the two in step.
	if len(s) != 7 {
		return false
	}
	upper := func(c byte) bool { return 'A' <= c && c <= 'Z' }
	digit := func(c byte) bool { return '0' <= c && c <= '9' }
	return upper(s[0]) && digit(s[1]) && digit(s[2]) && digit(s[3]) && digit(s[4]) && upper(s[5]) && upper(s[6])
}

// ValidCRN reports whether s is a probation case reference such as X373878.
func ValidCRN(s string) bool { return crnPattern.MatchString(s) }

// ValidPNC reports whether s is a Police National Computer id in its short
// (12/394773H) or long (2012/394773H) form.
func ValidPNC(s string) bool { return pncPattern.MatchString(s) }

// ValidPrisonCode reports whether s is a three-letter prison code such as MDI.
func ValidPrisonCode(s string) bool { return prisonPattern.MatchString(s) }

// ValidBookingID reports whether s is a NOMIS booking id (a numeric string).
func ValidBookingID(s string) bool { return bookingPattern.MatchString(s) }

// ValidProviderCode reports whether s is one of the 21 CRC provider codes
// C01..C21, which also name the contract package areas (CPAs).
func ValidProviderCode(s string) bool { return providerPattern.MatchString(s) }

// ValidNPSDivision reports whether s is one of the 2014-2021 NPS divisions
// N01..N07.
func ValidNPSDivision(s string) bool { return divisionPattern.MatchString(s) }

// ValidNPSRegion reports whether s is one of the twelve probation regions of
// the 2021 model, A..L.
func ValidNPSRegion(s string) bool { return regionPattern.MatchString(s) }

// ValidateIdentifier checks value against the format of the named field
// ("noms", "crn", "pnc", "prison", "bookingId", "providerCode",
// "npsDivision", "npsRegion") and returns an *IdentifierError if it does not
// match. The HTTP layer uses it to answer 400 with the same wording as the
// aggregate.
func ValidateIdentifier(field, value string) error {
	re, ok := identifierFormats[field]
	if !ok {
		return fmt.Errorf("aggregates: no identifier format named %q", field)
	}
	if !re.MatchString(value) {
		return &IdentifierError{Field: field, Value: value, Pattern: re.String()}
	}
	return nil
}

// StreamName is the event stream of the person's journey: "journey-<NOMS>".
func StreamName(noms string) string { return streamPrefix + noms }

// NOMSFromStream returns the prison number of a journey stream name, and false
// if the name is not a journey stream or holds a malformed prison number.
func NOMSFromStream(stream string) (string, bool) {
	noms, ok := strings.CutPrefix(stream, streamPrefix)
	if !ok || !ValidNOMS(noms) {
		return "", false
	}
	return noms, true
}

// checkID is the aggregate's internal use of ValidateIdentifier.
func checkID(field, value string) error {
	return ValidateIdentifier(field, value)
}

// checkOptionalID is checkID for a field that may be left empty.
func checkOptionalID(field, value string) error {
	if value == "" {
		return nil
	}
	return checkID(field, value)
}
