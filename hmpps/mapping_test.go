package hmpps

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gateledger/gateledger/aggregates"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the README's mapping table from Mapping")

// corpusMessages are the message bodies of testdata/corpus.json (the feed
// corpus the web package delivers through a running ledger).
func corpusMessages(t testing.TB) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "corpus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Messages []struct {
			Body json.RawMessage `json:"body"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, 0, len(c.Messages))
	for _, m := range c.Messages {
		out = append(out, m.Body)
	}
	return out
}

const (
	tableStart = "<!-- mapping table: generated from hmpps.Mapping by go test ./hmpps -run TestREADMEMappingTable -update-readme -->\n"
	tableEnd   = "<!-- end of mapping table -->"
)

// The README's table of what each feed message means is Mapping itself.
func TestREADMEMappingTable(t *testing.T) {
	path := filepath.Join("..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, tableStart), strings.Index(readme, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no mapping table between %q and %q", strings.TrimSpace(tableStart), tableEnd)
	}
	want := MappingTable()
	if got := readme[i+len(tableStart) : j]; got != want {
		if *updateReadme {
			if err := os.WriteFile(path, []byte(readme[:i+len(tableStart)]+want+readme[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Fatalf("README.md's mapping table differs from hmpps.Mapping; run go test ./hmpps -run TestREADMEMappingTable -update-readme")
	}
}

// Every movement reason code the domain brief names means what it says, and
// no code is in two rows of the same event type and reason.
func TestMappingCodes(t *testing.T) {
	at := "2026-03-01T10:00:00Z"
	release := func(reason, code string, prison any) []byte {
		b, _ := json.Marshal(map[string]any{"eventType": EventReleased, "occurredAt": at,
			"additionalInformation": map[string]any{"nomsNumber": "A8513EA", "reason": reason, "prisonId": prison, "nomisMovementReasonCode": code}})
		return b
	}
	for _, tc := range []struct {
		reason, code string
		want         aggregates.Command
		err          error
	}{
		{"RELEASED", "UAL", aggregates.EndCustody{Kind: aggregates.EndUnlawfullyAtLarge}, nil},
		{"RELEASED", "UAL_ECL", aggregates.EndCustody{Kind: aggregates.EndUnlawfullyAtLarge}, nil},
		{"RELEASED", "DEC", aggregates.EndCustody{Kind: aggregates.EndDied}, nil},
		{"RELEASED", "HO", aggregates.EndCustody{Kind: aggregates.EndSecureHospital}, nil},
		{"RELEASED", "HP", aggregates.EndCustody{Kind: aggregates.EndSecureHospital}, nil},
		{"RELEASED", "HQ", aggregates.EndCustody{Kind: aggregates.EndSecureHospital}, nil},
		{"RELEASED_TO_HOSPITAL", "", aggregates.EndCustody{Kind: aggregates.EndSecureHospital}, nil},
		{"RELEASED", "DD", aggregates.EndCustody{Kind: aggregates.EndRemovalCentre}, nil},
		{"RELEASED", "DE", aggregates.EndCustody{Kind: aggregates.EndRemovalCentre}, nil},
		{"RELEASED", "DL", aggregates.EndCustody{Kind: aggregates.EndRemovalCentre}, nil},
		{"RELEASED", "ETR", aggregates.EndCustody{Kind: aggregates.EndRemovalCentre}, nil},
		{"RELEASED", "ECSLIRC", aggregates.EndCustody{Kind: aggregates.EndRemovalCentre}, nil},
		{"RELEASED", "NCS", aggregates.ReleasePrisoner{Kind: aggregates.ReleaseOnLicence}, nil},
		{"RELEASED", "HD", aggregates.ReleasePrisoner{Kind: aggregates.ReleaseHDC}, nil},
		{"RELEASED", "ECSL", aggregates.ReleasePrisoner{Kind: aggregates.ReleaseECSL}, nil},
		{"RELEASED", "MRG", nil, ErrNothingToRecord},
		{"RELEASED", "QQQ", nil, ErrUnmappable},
		{"RELEASED", "", nil, ErrUnmappable},
		{"UNKNOWN", "NCS", nil, ErrUnmappable},
		{"ESCAPED", "", nil, ErrUnmappable},
	} {
		r, err := Parse(release(tc.reason, tc.code, nil))
		if tc.err != nil {
			if !errors.Is(err, tc.err) || DispositionOf(err) == Apply {
				t.Errorf("%s %s: %v, want %v", tc.reason, tc.code, err, tc.err)
			}
			if errors.Is(err, ErrUnmappable) && tc.code != "" && tc.reason == "RELEASED" && !strings.Contains(err.Error(), tc.code) {
				t.Errorf("%s %s: %v does not name the code", tc.reason, tc.code, err)
			}
			continue
		}
		if err != nil || len(r.Steps) != 1 {
			t.Errorf("%s %s: %+v %v", tc.reason, tc.code, r, err)
			continue
		}
		// prisonId null: the command names no prison, and the aggregate
		// takes the one holding the person.
		switch got := r.Steps[0].Command.(type) {
		case aggregates.EndCustody:
			if want := tc.want.(aggregates.EndCustody); got.Kind != want.Kind || got.Prison != "" || got.MovementReasonCode != tc.code {
				t.Errorf("%s %s: %+v", tc.reason, tc.code, got)
			}
		case aggregates.ReleasePrisoner:
			if want, ok := tc.want.(aggregates.ReleasePrisoner); !ok || got.Kind != want.Kind || got.Prison != "" {
				t.Errorf("%s %s: %+v, want %+v", tc.reason, tc.code, got, tc.want)
			}
		default:
			t.Errorf("%s %s: %T", tc.reason, tc.code, got)
		}
	}
	// No code means two things for one event type and reason.
	seen := map[string]int{}
	for i, row := range Mapping {
		for _, reason := range append([]string{""}, row.Reasons...) {
			for _, code := range row.Codes {
				k := row.EventType + "|" + reason + "|" + code
				if j, ok := seen[k]; ok {
					t.Errorf("%s is in rows %d and %d", k, j, i)
				}
				seen[k] = i
			}
		}
	}
}

func TestReceptionKinds(t *testing.T) {
	for _, tc := range []struct {
		code, cause string
		want        aggregates.ReceptionKind
	}{
		{"24", "", aggregates.ReceptionRecall},
		{"R1", "RECALL", aggregates.ReceptionRecall},
		{"L", "", aggregates.ReceptionRecall},
		{"N", "RECALL", aggregates.ReceptionRemand}, // the code says what it was
		{"V", "", aggregates.ReceptionRemand},
		{"I", "", aggregates.ReceptionSentence},
		{"INTAKE", "", aggregates.ReceptionAdmission},
		{"", "RECALL", aggregates.ReceptionRecall},
		{"", "", aggregates.ReceptionAdmission},
	} {
		if got := ReceptionKindOf(tc.code, tc.cause); got != tc.want {
			t.Errorf("%q %q: %s, want %s", tc.code, tc.cause, got, tc.want)
		}
	}
}

func TestIdentityMessages(t *testing.T) {
	merged := []byte(`{"eventType":"prison-offender-events.prisoner.merged","occurredAt":"2026-02-20T12:00:00Z",` +
		`"additionalInformation":{"nomsNumber":"A1111AA","removedNomsNumber":"B2222BB","bookingId":"7","reason":"MERGE"}}`)
	r, err := Parse(merged)
	if err != nil || len(r.Steps) != 2 || r.Steps[0].NOMS != "A1111AA" || r.Steps[1].NOMS != "B2222BB" {
		t.Fatalf("merged: %+v %v", r, err)
	}
	if a := r.Steps[0].Command.(aggregates.AbsorbPrisonNumber); a.From != "B2222BB" || a.NOMS != "A1111AA" {
		t.Errorf("absorb %+v", a)
	}
	if m := r.Steps[1].Command.(aggregates.MergePrisonNumber); m.Into != "A1111AA" {
		t.Errorf("merge %+v", m)
	}
	moved := []byte(`{"eventType":"prison-offender-events.prisoner.booking.moved","occurredAt":"2026-02-20T12:00:00Z",` +
		`"additionalInformation":{"movedFromNomsNumber":"B2222BB","movedToNomsNumber":"A1111AA","bookingId":"7"}}`)
	if r, err := Parse(moved); err != nil || r.NOMS != "A1111AA" || len(r.Steps) != 2 {
		t.Fatalf("booking moved: %+v %v", r, err)
	}
	self := []byte(`{"eventType":"prison-offender-events.prisoner.merged","occurredAt":"2026-02-20T12:00:00Z",` +
		`"additionalInformation":{"nomsNumber":"A1111AA","removedNomsNumber":"A1111AA"}}`)
	if _, err := Parse(self); !errors.Is(err, ErrMalformed) {
		t.Errorf("a merge into itself: %v", err)
	}
	crn := []byte(`{"eventType":"probation-case.prison-identifier.added","occurredAt":"2026-02-20T12:00:00Z",` +
		`"personReference":{"identifiers":[{"type":"CRN","value":"X373878"},{"type":"NOMS","value":"A1111AA"}]},"additionalInformation":{}}`)
	if r, err := Parse(crn); err != nil || r.Steps[0].Command.(aggregates.LinkCRN).CRN != "X373878" {
		t.Fatalf("CRN: %+v %v", r, err)
	}
}

// The version is read however a publisher writes it.
func TestAnyVersionShape(t *testing.T) {
	for _, v := range []string{`1`, `"1"`, `"1.0"`, `"v1"`, `null`, `1.5`} {
		msg := `{"eventType":"prison-offender-events.prisoner.received","version":` + v +
			`,"occurredAt":"2026-01-01T10:00:00Z","additionalInformation":{"nomsNumber":"A1234BC","reason":"ADMISSION","prisonId":"MDI","nomisMovementReasonCode":"I"}}`
		if r, err := Parse([]byte(msg)); err != nil || len(r.Steps) != 1 {
			t.Errorf("version %s: %+v %v", v, r, err)
		}
	}
}
