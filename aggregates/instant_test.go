package aggregates

import (
	"reflect"
	"testing"
	"time"
)

// checkInstant fails unless ParseInstant, when it accepts s, gives exactly what
// time.Parse(time.RFC3339Nano) and time.Time's UnmarshalJSON give, for a string and
// for bytes alike.
func checkInstant(t *testing.T, s string) bool {
	t.Helper()
	got, ok := ParseInstant(s)
	gotb, okb := ParseInstant([]byte(s))
	if ok != okb || !reflect.DeepEqual(got, gotb) {
		t.Fatalf("%q: string and bytes disagree: %v %v, %v %v", s, got, ok, gotb, okb)
	}
	if !ok {
		if !got.IsZero() {
			t.Fatalf("%q: refused but returned %v", s, got)
		}
		return false
	}
	want, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: got %v (%#v), time.Parse gives %v (%#v), %v", s, got, got, want, want, err)
	}
	var fromJSON time.Time
	if err := fromJSON.UnmarshalJSON([]byte(`"` + s + `"`)); err != nil || !reflect.DeepEqual(got, fromJSON) {
		t.Fatalf("%q: got %v, UnmarshalJSON gives %v, %v", s, got, fromJSON, err)
	}
	return true
}

func TestParseInstant(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"2024-06-24T15:06:39Z", true},
		{"2024-06-24T15:06:39.665736228Z", true},
		{"2024-06-24T15:06:39.5Z", true},
		{"2024-06-24T15:06:39.000000000Z", true},
		{"2024-06-24T15:06:39.1234567891Z", true}, // the tenth digit is dropped
		{"2024-02-29T23:59:59Z", true},
		{"2000-02-29T00:00:00Z", true},
		{"0000-01-01T00:00:00Z", true},
		{"9999-12-31T23:59:59.999999999Z", true},

		{"1900-02-29T00:00:00Z", false},
		{"2023-02-29T00:00:00Z", false},
		{"2024-04-31T00:00:00Z", false},
		{"2024-13-01T00:00:00Z", false},
		{"2024-00-01T00:00:00Z", false},
		{"2024-01-00T00:00:00Z", false},
		{"2024-06-24T24:00:00Z", false},
		{"2024-06-24T23:60:00Z", false},
		{"2016-12-31T23:59:60Z", false},
		{"2024-06-24T15:06:39+00:00", false},
		{"2024-06-24T15:06:39+01:00", false},
		{"2024-06-24T15:06:39z", false},
		{"2024-06-24t15:06:39Z", false},
		{"2024-06-24 15:06:39Z", false},
		{"2024-06-24T15:06:39,5Z", false},
		{"2024-06-24T15:06:39.Z", false},
		{"2024-06-24T15:06:39.5xZ", false},
		{"2024-06-24T5:06:39Z", false},
		{"2024-6-24T15:06:39Z", false},
		{"+024-06-24T15:06:39Z", false},
		{"2024-06-24T15:06:39", false},
		{"2024-06-24", false},
		{"", false},
	} {
		if got := checkInstant(t, c.in); got != c.ok {
			t.Errorf("%q: accepted %v, want %v", c.in, got, c.ok)
		}
	}
}

func FuzzParseInstant(f *testing.F) {
	for _, s := range []string{"2024-06-24T15:06:39Z", "2024-06-24T15:06:39.665736228Z", "2024-02-29T00:00:00.1234567891Z", "2024-06-24T15:06:39+01:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkInstant(t, s) })
}
