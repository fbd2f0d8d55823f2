package inspect

import (
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/projections"
)

// svgDoc is what the chart tests read back from the SVG.
type svgDoc struct {
	XMLName xml.Name `xml:"svg"`
	Role    string   `xml:"role,attr"`
	Labels  string   `xml:"aria-labelledby,attr"`
	ViewBox string   `xml:"viewBox,attr"`
	Title   struct {
		ID   string `xml:"id,attr"`
		Text string `xml:",chardata"`
	} `xml:"title"`
	Desc struct {
		ID   string `xml:"id,attr"`
		Text string `xml:",chardata"`
	} `xml:"desc"`
	Text []string `xml:"text"`
	Bars []struct {
		Texts []string `xml:"text"`
		Rect  struct {
			Width string `xml:"width,attr"`
			Fill  string `xml:"fill,attr"`
		} `xml:"rect"`
	} `xml:"g"`
}

func parseSVG(t *testing.T, c BarChart) svgDoc {
	t.Helper()
	var d svgDoc
	if err := xml.Unmarshal([]byte(c.SVG()), &d); err != nil {
		t.Fatalf("the chart is not well-formed XML: %v\n%s", err, c.SVG())
	}
	return d
}

func TestBarChart(t *testing.T) {
	full := float64(chartWidth - labelWidth - valueWidth)
	for _, tc := range []struct {
		name   string
		chart  BarChart
		widths []float64
	}{
		{"scaled to max", BarChart{ID: "c", Title: "T", Desc: "D", Max: 1, Bars: []Bar{
			{Label: "C01", Value: 0.5, Text: "50.0%"}, {Label: "C02", Value: 1, Text: "100.0%"}, {Label: "C03", Value: 0, Text: "0.0%"}}},
			[]float64{full / 2, full, 0}},
		{"scaled to the largest", BarChart{ID: "c", Title: "T", Desc: "D", Bars: []Bar{
			{Label: "A", Value: 2}, {Label: "B", Value: 8}}}, []float64{full / 4, full}},
		{"over max is capped, NaN and negative are empty", BarChart{ID: "c", Title: "T", Desc: "D", Max: 1, Bars: []Bar{
			{Label: "A", Value: 3}, {Label: "B", Value: math.NaN()}, {Label: "C", Value: -1}}}, []float64{full, 0, 0}},
		{"all zero", BarChart{ID: "c", Title: "T", Desc: "D", Bars: []Bar{{Label: "A"}}}, []float64{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := parseSVG(t, tc.chart)
			if d.Role != "img" || d.Labels != "c-title c-desc" || d.Title.ID != "c-title" || d.Desc.ID != "c-desc" ||
				d.Title.Text != "T" || d.Desc.Text != "D" {
				t.Fatalf("accessible name and description: %+v", d)
			}
			if len(d.Bars) != len(tc.widths) {
				t.Fatalf("%d bars, want %d", len(d.Bars), len(tc.widths))
			}
			for k, b := range d.Bars {
				w, err := strconv.ParseFloat(b.Rect.Width, 64)
				if err != nil || math.Abs(w-tc.widths[k]) > 0.1 {
					t.Errorf("bar %d width %q, want %g", k, b.Rect.Width, tc.widths[k])
				}
				if b.Texts[0] != tc.chart.Bars[k].Label || b.Texts[1] != tc.chart.Bars[k].Text {
					t.Errorf("bar %d texts %v", k, b.Texts)
				}
			}
		})
	}
}

func TestBarChartEscapes(t *testing.T) {
	c := BarChart{ID: `x"><script>`, Title: "<b>T & T</b>", Desc: `"quoted"`,
		Bars: []Bar{{Label: "<img src=x onerror=alert(1)>", Value: 1, Text: "a & b", Hatched: true}}}
	s := string(c.SVG())
	if strings.Contains(s, "<script") || strings.Contains(s, "<img") || strings.Contains(s, "<b>") {
		t.Fatalf("markup got through:\n%s", s)
	}
	d := parseSVG(t, c)
	if d.Title.Text != "<b>T & T</b>" || d.Bars[0].Texts[0] != "<img src=x onerror=alert(1)>" || d.Bars[0].Texts[1] != "a & b" {
		t.Fatalf("texts changed by escaping: %+v", d)
	}
	if !strings.HasPrefix(d.Bars[0].Rect.Fill, "url(#") {
		t.Errorf("a hatched bar is drawn with the pattern, not colour alone: %q", d.Bars[0].Rect.Fill)
	}
}

func TestBarChartEmpty(t *testing.T) {
	d := parseSVG(t, BarChart{ID: "e", Title: "Nothing", Desc: "No bars"})
	if len(d.Bars) != 0 || !slices.Contains(d.Text, "No figures yet") {
		t.Fatalf("empty chart: %+v", d)
	}
}

func cohort(provider, label string, size, reoffenders, reoffences int, provisional bool) projections.CohortOutcome {
	c := projections.CohortOutcome{Provider: aggregates.Org(provider), Cohort: label, Size: size, Reoffenders: reoffenders,
		Reoffences: reoffences, Provisional: provisional, FinalFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if size > 0 {
		c.BinaryRate = float64(reoffenders) / float64(size)
	}
	return c
}

func TestBuildOutcomes(t *testing.T) {
	cs := []projections.CohortOutcome{ // as projections.Outcomes orders them: cohort, then provider
		cohort("C05", "2021-Q1", 10, 2, 3, false),
		cohort("C17", "2021-Q1", 4, 0, 0, false),
		cohort("C05", "2021-Q2", 10, 5, 10, true),
	}
	for _, tc := range []struct {
		cohort      string
		cohorts     int
		c05Size     int
		c05Binary   float64
		c05Freq     float64
		provisional bool
		bars        []string
		hatched     []bool
	}{
		{"", 2, 20, 7.0 / 20, 13.0 / 7, true, []string{"35.0%", "0.0%"}, []bool{true, false}},
		{"2021-Q1", 1, 10, 0.2, 1.5, false, []string{"20.0%", "0.0%"}, []bool{false, false}},
		{"2021-Q2", 1, 10, 0.5, 2, true, []string{"50.0%"}, []bool{true}},
	} {
		t.Run("cohort "+tc.cohort, func(t *testing.T) {
			v, err := buildOutcomes(cs, tc.cohort)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(v.Cohorts, []string{"2021-Q1", "2021-Q2"}) || len(v.ByCohort) != tc.cohorts {
				t.Fatalf("cohorts %v, tables %d", v.Cohorts, len(v.ByCohort))
			}
			c05 := v.ByProvider[0]
			if c05.Provider != "C05" || c05.Size != tc.c05Size || math.Abs(c05.BinaryRate-tc.c05Binary) > 1e-9 ||
				math.Abs(c05.FrequencyRate-tc.c05Freq) > 1e-9 || c05.Provisional != tc.provisional {
				t.Errorf("C05 %+v", c05)
			}
			var texts []string
			var hatched []bool
			for _, b := range v.Chart.Bars {
				texts = append(texts, b.Text)
				hatched = append(hatched, b.Hatched)
			}
			if !slices.Equal(texts, tc.bars) || !slices.Equal(hatched, tc.hatched) {
				t.Errorf("bars %v hatched %v, want %v %v", texts, hatched, tc.bars, tc.hatched)
			}
			if len(v.ByProvider) != len(v.Chart.Bars) {
				t.Error("the chart and its table must hold the same rows")
			}
		})
	}
	v, _ := buildOutcomes(cs, "")
	if q1 := v.ByCohort[0]; q1.Total.Size != 14 || q1.Total.Reoffenders != 2 || len(q1.Rows) != 2 || q1.Provisional {
		t.Errorf("2021-Q1 table %+v", q1)
	}
	var ie *InputError
	if _, err := buildOutcomes(cs, "1999-Q1"); !errors.As(err, &ie) {
		t.Errorf("unknown cohort: %v", err)
	}
	empty, err := buildOutcomes(nil, "")
	if err != nil || len(empty.ByProvider) != 0 || len(empty.Chart.Bars) != 0 {
		t.Errorf("no outcomes: %+v %v", empty, err)
	}
}

func TestParseDate(t *testing.T) {
	today := aggregates.NewDate(2026, 11, 23)
	for _, tc := range []struct {
		d, m, y string
		want    aggregates.Date
		field   string // the field an error links to
	}{
		{"6", "6", "2024", aggregates.NewDate(2024, 6, 6), ""},
		{" 06 ", "06", " 2024", aggregates.NewDate(2024, 6, 6), ""},
		{"29", "feb", "2024", aggregates.NewDate(2024, 2, 29), ""},
		{"1", "September", "2021", aggregates.NewDate(2021, 9, 1), ""},
		{"23", "11", "2026", today, ""},
		{"", "", "", aggregates.Date{}, "d-day"},
		{"", "6", "2024", aggregates.Date{}, "d-day"},
		{"1", "", "", aggregates.Date{}, "d-month"},
		{"1", "6", "", aggregates.Date{}, "d-year"},
		{"x", "6", "2024", aggregates.Date{}, "d-day"},
		{"-1", "6", "2024", aggregates.Date{}, "d-day"},
		{"0", "6", "2024", aggregates.Date{}, "d-day"},
		{"32", "6", "2024", aggregates.Date{}, "d-day"},
		{"29", "2", "2023", aggregates.Date{}, "d-day"},
		{"31", "4", "2024", aggregates.Date{}, "d-day"},
		{"1", "13", "2024", aggregates.Date{}, "d-month"},
		{"1", "0", "2024", aggregates.Date{}, "d-month"},
		{"1", "smarch", "2024", aggregates.Date{}, "d-month"},
		{"1", "6", "24", aggregates.Date{}, "d-year"},
		{"1", "6", "20245", aggregates.Date{}, "d-year"},
		{"1", "6", "1999", aggregates.Date{}, "d-year"},
		{"24", "11", "2026", aggregates.Date{}, "d"},
		{"1", "1", "9999", aggregates.Date{}, "d"},
	} {
		got, err := ParseDate("d", tc.d, tc.m, tc.y, today)
		var ie *InputError
		switch {
		case tc.field == "" && (err != nil || got != tc.want):
			t.Errorf("ParseDate(%q, %q, %q) = %v, %v; want %v", tc.d, tc.m, tc.y, got, err, tc.want)
		case tc.field != "" && (!errors.As(err, &ie) || ie.Errors[0].Field != tc.field || ie.Errors[0].Message == ""):
			t.Errorf("ParseDate(%q, %q, %q) = %v, %v; want an error on %s", tc.d, tc.m, tc.y, got, err, tc.field)
		}
	}
}

// FuzzParseDate: whatever is typed, the answer is a valid date no later
// than today or an input error naming one of the date's fields.
func FuzzParseDate(f *testing.F) {
	for _, s := range [][3]string{{"6", "6", "2024"}, {"29", "feb", "2024"}, {"", "", ""}, {"31", "4", "2024"}, {"1", "sept", "2021"},
		{"99999999999999999999", "1", "2024"}, {"+1", "+6", "+2024"}, {"١", "٦", "٢٠٢٤"}} {
		f.Add(s[0], s[1], s[2])
	}
	today := aggregates.NewDate(2026, 11, 23)
	f.Fuzz(func(t *testing.T, d, m, y string) {
		got, err := ParseDate("as-at", d, m, y, today)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || len(ie.Errors) != 1 || !strings.HasPrefix(ie.Errors[0].Field, "as-at") || ie.Errors[0].Message == "" {
				t.Fatalf("ParseDate(%q, %q, %q): %v", d, m, y, err)
			}
			return
		}
		if got.IsZero() || got.After(today) || got.Year < earliestYear || aggregates.DateOf(got.Time()) != got {
			t.Fatalf("ParseDate(%q, %q, %q) = %v", d, m, y, got)
		}
	})
}

// FuzzClassifyQuery: whatever is typed into the search box is read as a
// well-formed prison number or CRN, or refused with a message for the field.
func FuzzClassifyQuery(f *testing.F) {
	for _, s := range []string{"A1234BC", " a 1234 bc ", "X123456", "", "Smith", "A1234BC\x00", "ａ1234ｂｃ", "X12345\u00a06"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, kind, err := ClassifyQuery(s)
		var ie *InputError
		switch {
		case err != nil:
			if !errors.As(err, &ie) || ie.Errors[0].Field != "query" || q != "" || kind != "" {
				t.Fatalf("ClassifyQuery(%q) = %q, %q, %v", s, q, kind, err)
			}
		case kind == KindNOMS && !aggregates.ValidNOMS(q), kind == KindCRN && !aggregates.ValidCRN(q), kind != KindNOMS && kind != KindCRN:
			t.Fatalf("ClassifyQuery(%q) = %q, %q", s, q, kind)
		}
	})
}

func TestWords(t *testing.T) {
	for in, want := range map[string]string{
		"PrisonerReceived": "Prisoner received", "MAPPALevelSet": "MAPPA level set", "CRNLinked": "CRN linked",
		"prisonCode": "Prison code", "nomsNumber": "NOMS number", "crn": "CRN", "actionId": "Action ID", "rosh": "RoSH", "kind": "Kind", "ProvenReoffenceRecorded": "Proven reoffence recorded",
		"RiskAssessed": "Risk assessed", "": "",
	} {
		if got := Words(in); got != want {
			t.Errorf("Words(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDetails(t *testing.T) {
	at := time.Date(2024, 6, 3, 9, 0, 0, 0, time.UTC)
	got := Details(aggregates.ReleaseDatesSet{Dates: aggregates.ReleaseDates{ConditionalRelease: aggregates.NewDate(2024, 9, 30)}, At: at})
	if len(got) != 1 || got[0].Value != "30 September 2024" || got[0].Name != "Dates: conditional release date" {
		t.Errorf("nested dates: %+v", got)
	}
	// Labels, not codes: the kind is named by its type and said in words.
	got = Details(aggregates.PrisonerReceived{NOMS: "A1234BC", Kind: aggregates.ReceptionSentence, Prison: "MDI", Late: true, At: at})
	want := []Detail{{Name: "Reception kind", Value: "Sentence"}, {Name: "Prison", Value: "MDI"}, {Name: "Recorded late", Value: "Yes"}}
	if !slices.Equal(got, want) {
		t.Errorf("details %+v, want %+v (no person, no occurredAt, no empty values, declared order)", got, want)
	}
	got = Details(aggregates.PrisonerReleased{Kind: aggregates.ReleaseOnLicence, Prison: "MDI", At: at})
	if len(got) < 2 || got[0] != (Detail{Name: "Release kind", Value: "On licence"}) {
		t.Errorf("release details %+v", got)
	}
}

// With no cohort chosen, the page shows the most recent cohorts' tables and
// says how many earlier ones the chooser and the CSV reach; the providers'
// totals still cover every cohort.
func TestOutcomesPageStaysAPage(t *testing.T) {
	var cs []projections.CohortOutcome
	for y := 2022; y <= 2024; y++ {
		for q := 1; q <= 4; q++ {
			for _, p := range []aggregates.Org{"NPS-A", "NPS-C"} {
				cs = append(cs, projections.CohortOutcome{Provider: p, Cohort: fmt.Sprintf("%d-Q%d", y, q), Size: 10, Reoffenders: 1, Reoffences: 1})
			}
		}
	}
	v, err := buildOutcomes(cs, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(v.ByCohort) != RecentCohorts || v.Earlier != 12-RecentCohorts || v.ByCohort[0].Cohort != "2024-Q1" || len(v.Cohorts) != 12 {
		t.Fatalf("tables %d, earlier %d, first %s, chooser %d", len(v.ByCohort), v.Earlier, v.ByCohort[0].Cohort, len(v.Cohorts))
	}
	if len(v.ByProvider) != 2 || v.ByProvider[0].Size != 120 || v.ByProvider[1].ProviderName() != "NPS Yorkshire and the Humber" {
		t.Fatalf("providers over every cohort: %+v", v.ByProvider)
	}
	if one, err := buildOutcomes(cs, "2022-Q2"); err != nil || len(one.ByCohort) != 1 || one.Earlier != 0 {
		t.Fatalf("one cohort: %d tables, earlier %d, %v", len(one.ByCohort), one.Earlier, err)
	}
}
