package aggregates

import (
	"errors"
	"testing"
)

func TestIdentifiers(t *testing.T) {
	for _, tc := range []struct {
		field string
		ok    []string
		bad   []string
	}{
		{"noms", []string{"A4092EA", "Z0000ZZ"}, []string{"", "a4092ea", "A409EA", "A4092E", "A4092EAA", "14092EA"}},
		{"crn", []string{"X373878"}, []string{"X37387", "x373878", "XX73878"}},
		{"pnc", []string{"12/394773H", "2012/394773H", "99/1A"}, []string{"123/394773H", "12/394773", "12-394773H", "2012/H"}},
		{"prison", []string{"MDI", "LEI"}, []string{"MD", "MDIX", "mdi", "M1I"}},
		{"bookingId", []string{"1209333", "1"}, []string{"", "12a", "-1"}},
		{"providerCode", []string{"C01", "C09", "C10", "C21"}, []string{"C00", "C22", "C1", "N01"}},
		{"npsDivision", []string{"N01", "N07"}, []string{"N00", "N08", "C01"}},
		{"npsRegion", []string{"A", "L"}, []string{"M", "a", "AA"}},
	} {
		for _, s := range tc.ok {
			if err := ValidateIdentifier(tc.field, s); err != nil {
				t.Errorf("%s %q: %v", tc.field, s, err)
			}
		}
		for _, s := range tc.bad {
			err := ValidateIdentifier(tc.field, s)
			var ie *IdentifierError
			if !errors.Is(err, ErrInvalidIdentifier) || !errors.As(err, &ie) || ie.Field != tc.field {
				t.Errorf("%s %q: %v", tc.field, s, err)
			}
		}
	}
	if ValidateIdentifier("shoeSize", "9") == nil {
		t.Error("unknown format accepted")
	}
	if !ValidNOMS("A4092EA") || !ValidCRN("X373878") || !ValidPNC("12/1A") || !ValidPrisonCode("MDI") ||
		!ValidBookingID("1") || !ValidProviderCode("C21") || !ValidNPSDivision("N07") || !ValidNPSRegion("L") {
		t.Error("exported validators")
	}
	if StreamName("A4092EA") != "journey-A4092EA" {
		t.Error("stream name")
	}
	if n, ok := NOMSFromStream("journey-A4092EA"); !ok || n != "A4092EA" {
		t.Error("NOMSFromStream")
	}
	for _, s := range []string{"journey-", "journey-a4092ea", "dead-letter-A4092EA", "$all"} {
		if _, ok := NOMSFromStream(s); ok {
			t.Errorf("NOMSFromStream(%q) accepted", s)
		}
	}
	for o, k := range map[Org]OrgKind{"MDI": OrgPrison, "C05": OrgCRC, "N03": OrgNPSDivision, "NPS-D": OrgNPSRegion, "NPS-Z": OrgUnknown, "": OrgUnknown} {
		if o.Kind() != k {
			t.Errorf("%q kind %q", o, o.Kind())
		}
	}
	if d, err := ParseDate("2025-03-14"); err != nil || d != NewDate(2025, 3, 14) || d.String() != "2025-03-14" {
		t.Error("dates")
	}
	if _, err := ParseDate("14/03/2025"); err == nil {
		t.Error("bad date accepted")
	}
}

// FuzzValidNOMSMatchesPattern: the hand-written check accepts exactly what the documented
// pattern does.
func FuzzValidNOMSMatchesPattern(f *testing.F) {
	for _, s := range []string{"A1234BC", "a1234bc", "A1234B", "A1234BCD", "A12X4BC", "Z0000ZZ", "", "A1234B\x00", "É1234BC"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidNOMS(s), nomsPattern.MatchString(s); got != want {
			t.Fatalf("ValidNOMS(%q) = %v, pattern says %v", s, got, want)
		}
	})
}
