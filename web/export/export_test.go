package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/projections"
)

func TestSafeCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"+1", "'+1"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"a=1", "a=1"},
		{"'already", "'already"},
		{"2026-11-23T02:00:00Z", "2026-11-23T02:00:00Z"},
	} {
		if got := SafeCell(tc.in); got != tc.want {
			t.Errorf("SafeCell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func entry(rev uint64, user, org string) projections.AuditEntry {
	at := time.Date(2026, 3, 4, 5, 6, 7, 800, time.UTC)
	return projections.AuditEntry{Position: 128 + rev, Stream: "journey-A1234BC", Revision: rev,
		EventID: uuid.NewSHA1(uuid.NameSpaceOID, []byte{byte(rev)}), Type: "PrisonerReceived", SchemaVersion: 2,
		UserID: user, Role: "prison", Organisation: org, OccurredAt: at, RecordedAt: at.Add(time.Second), StoredAt: at.Add(2 * time.Second),
		Source: "ui", CorrelationID: "c", Command: "ReceivePrisoner", Hash: strings.Repeat("ab", 32)}
}

// TestWriteCSV: every value survives a round trip through an RFC 4180
// reader, however it is quoted; formulas come back as text; records end in
// CRLF.
func TestWriteCSV(t *testing.T) {
	for _, tc := range []struct {
		name, user, org string
		wantUser        string
		raw             string // the field as written, when it matters
	}{
		{"plain", "u1", "MDI", "u1", ",u1,"},
		{"comma", "Smith, J", "MDI", "Smith, J", `,"Smith, J",`},
		{"quote", `say "hi"`, "MDI", `say "hi"`, `,"say ""hi""",`},
		{"newline", "two\nlines", "MDI", "two\nlines", ",\"two\nlines\","},
		{"crlf inside", "a\r\nb", "MDI", "a\r\nb", ",\"a\r\nb\","},
		{"lone cr inside", "a\rb", "MDI", "a\rb", ",\"a\rb\","},
		{"formula", "=cmd|' /C calc'!A0", "MDI", "'=cmd|' /C calc'!A0", ",'=cmd|' /C calc'!A0,"},
		{"plus", "+44 20", "MDI", "'+44 20", ",'+44 20,"},
		{"minus", "-1", "MDI", "'-1", ",'-1,"},
		{"at", "@SUM(1,2)", "MDI", "'@SUM(1,2)", `,"'@SUM(1,2)",`},
		{"tab", "\t=1", "MDI", "'\t=1", ",'\t=1,"},
		{"cr", "\r=1", "MDI", "'\r=1", ",\"'\r=1\","},
		{"leading space", " =1", "MDI", " =1", ", =1,"},
		{"unicode", "Zoë Ł", "MDI", "Zoë Ł", ",Zoë Ł,"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			es := []projections.AuditEntry{entry(0, tc.user, tc.org), entry(1, "second", "=org")}
			if err := WriteCSV(&b, es, Describer{}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if !strings.HasSuffix(out, "\r\n") || !strings.HasPrefix(out, strings.Join(Columns, ",")+"\r\n") {
				t.Fatalf("records must end in CRLF and start with the header:\n%q", out)
			}
			if !strings.Contains(out, tc.raw) {
				t.Errorf("the output does not hold %q:\n%q", tc.raw, out)
			}
			recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatalf("not RFC 4180: %v\n%q", err, out)
			}
			if len(recs) != 3 {
				t.Fatalf("%d records, want 3 (header + 2)", len(recs))
			}
			col := func(name string) int {
				for i, c := range Columns {
					if c == name {
						return i
					}
				}
				t.Fatalf("no column %s", name)
				return -1
			}
			row := recs[1]
			if len(row) != len(Columns) {
				t.Fatalf("row has %d fields, want %d", len(row), len(Columns))
			}
			// encoding/csv reads a quoted CRLF back as LF (the raw check
			// above sees the CRLF itself).
			want := strings.ReplaceAll(tc.wantUser, "\r\n", "\n")
			if got := row[col("user_id")]; got != want {
				t.Errorf("user_id %q, want %q", got, want)
			}
			if got := recs[2][col("organisation")]; got != "'=org" {
				t.Errorf("organisation %q, want the formula guarded", got)
			}
			for name, want := range map[string]string{"position": "128", "revision": "0", "type": "PrisonerReceived",
				"schema_version": "2", "occurred_at": "2026-03-04T05:06:07.0000008Z", "recorded_at": "2026-03-04T05:06:08.0000008Z",
				"source": "ui", "hash": strings.Repeat("ab", 32), "previous_hash": "", "event_id": es[0].EventID.String()} {
				if got := row[col(name)]; got != want {
					t.Errorf("%s %q, want %q", name, got, want)
				}
			}
		})
	}
}

// TestWriteCSVManyRows crosses the flush boundary.
func TestWriteCSVManyRows(t *testing.T) {
	es := make([]projections.AuditEntry, 3*flushEvery+1)
	for i := range es {
		es[i] = entry(uint64(i), "u", "MDI")
	}
	var b bytes.Buffer
	if err := WriteCSV(&b, es, Describer{}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(es)+1 || recs[len(es)][2] != "768" {
		t.Fatalf("%d records, last revision %q", len(recs), recs[len(recs)-1][2])
	}
}

type failWriter struct{ after int }

var errBroken = errors.New("broken pipe")

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errBroken
	}
	f.after--
	return len(p), nil
}

// TestWriteFails: a writer that fails (a client gone) stops the export with
// that error.
func TestWriteFails(t *testing.T) {
	es := make([]projections.AuditEntry, 2000)
	for i := range es {
		es[i] = entry(uint64(i), "u", "MDI")
	}
	if err := WriteCSV(&failWriter{after: 1}, es, Describer{}); !errors.Is(err, errBroken) {
		t.Fatalf("csv: %v, want the writer's error", err)
	}
	if err := WriteJSON(&failWriter{after: 1}, "A1234BC", es, Describer{}); !errors.Is(err, errBroken) {
		t.Fatalf("json: %v, want the writer's error", err)
	}
}

func TestWriteJSON(t *testing.T) {
	for _, n := range []int{0, 1, 500} {
		es := make([]projections.AuditEntry, n)
		for i := range es {
			es[i] = entry(uint64(i), `"=quoted"`, "MDI")
		}
		var b bytes.Buffer
		if err := WriteJSON(&b, "A1234BC", es, Describer{}); err != nil {
			t.Fatal(err)
		}
		var got struct {
			NOMS    string  `json:"noms"`
			Entries []Entry `json:"entries"`
		}
		dec := json.NewDecoder(&b)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("%d entries: %v", n, err)
		}
		if got.NOMS != "A1234BC" || len(got.Entries) != n {
			t.Fatalf("noms %q, %d entries; want A1234BC, %d", got.NOMS, len(got.Entries), n)
		}
		for i, e := range got.Entries {
			want := Describer{}.Entry(es[i])
			if !reflect.DeepEqual(e, want) {
				t.Fatalf("entry %d: %+v, want %+v (JSON is not formula-guarded: values stay exact)", i, e, want)
			}
		}
	}
}

func TestKnownAt(t *testing.T) {
	rec, stored := time.Unix(100, 0), time.Unix(200, 0)
	if got := (Entry{RecordedAt: rec, StoredAt: stored}).KnownAt(); !got.Equal(rec) {
		t.Errorf("KnownAt %v, want recordedAt", got)
	}
	if got := (Entry{StoredAt: stored}).KnownAt(); !got.Equal(stored) {
		t.Errorf("KnownAt %v, want the store's time without recordedAt", got)
	}
}

func TestFilename(t *testing.T) {
	if got := Filename("A1234BC", "csv"); got != "gateledger-history-A1234BC.csv" {
		t.Fatal(got)
	}
}

// TestEntryInWords: an entry says what happened with the event's labelled
// fields, who by name, and when in UK time.
func TestEntryInWords(t *testing.T) {
	e := entry(0, "token:806e3111a15a", "MDI")
	e.OccurredAt = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	e.Type = aggregates.TypePrisonerReleased
	d := Describer{
		Event: func(string, uint64) aggregates.Event {
			return aggregates.PrisonerReleased{Kind: aggregates.ReleaseOnLicence, Prison: "MDI", At: e.OccurredAt}
		},
		Name: func(id string) string {
			if id == "token:806e3111a15a" {
				return "Jo Bloggs"
			}
			return ""
		},
	}
	var b bytes.Buffer
	if err := WriteCSV(&b, []projections.AuditEntry{e}, d); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("%v %v", recs, err)
	}
	row := map[string]string{}
	for i, c := range Columns {
		row[c] = recs[1][i]
	}
	for col, want := range map[string]string{"what": "Released", "details": "Release kind: On licence; Prison: MDI",
		"who": "Jo Bloggs", "occurred": "1 December 2026, 9:00am", "from": "Web pages", "user_id": "token:806e3111a15a"} {
		if row[col] != want {
			t.Errorf("%s = %q, want %q", col, row[col], want)
		}
	}
}
