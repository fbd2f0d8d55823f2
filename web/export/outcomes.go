package export

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/gateledger/gateledger/labels"
	"github.com/gateledger/gateledger/projections"
)

// OutcomeColumns are the header of the outcomes CSV: one row per provider
// and release cohort, dates in words, rates as decimals (a spreadsheet
// formats them), then whether the cohort is final.
var OutcomeColumns = []string{"provider", "cohort", "released_from", "released_to", "size", "reoffenders", "reoffences",
	"excluded_reoffences", "binary_rate", "frequency_rate", "status", "final_from"}

// WriteOutcomesCSV writes payment-by-results cohorts as CSV (RFC 4180,
// formula-guarded like the history).
func WriteOutcomesCSV(w io.Writer, cs []projections.CohortOutcome) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	writeRecord(bw, OutcomeColumns)
	rec := make([]string, 0, len(OutcomeColumns))
	for _, c := range cs {
		status := "Final"
		if c.Provisional {
			status = "Provisional"
		}
		rec = append(rec[:0], string(c.Provider), c.Cohort, labels.Date(c.Start), labels.Date(c.End), strconv.Itoa(c.Size),
			strconv.Itoa(c.Reoffenders), strconv.Itoa(c.Reoffences), strconv.Itoa(c.ExcludedReoffences),
			strconv.FormatFloat(c.BinaryRate, 'f', 4, 64), strconv.FormatFloat(c.FrequencyRate, 'f', 4, 64), status,
			labels.When(c.FinalFrom))
		for j := range rec {
			rec[j] = SafeCell(rec[j])
		}
		writeRecord(bw, rec)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export: outcomes csv: %w", err)
	}
	return nil
}

// OutcomesFilename is the name the outcomes download is saved under.
const OutcomesFilename = "gateledger-outcomes.csv"
