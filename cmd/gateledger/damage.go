package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/internal/eventdb"
)

// storeDamaged turns an error that says the store file in dataDir is damaged into
// one that says what the ledger did and what to do next; other errors pass through.
// what is what the command was doing ("start", "verify", "back up").
func storeDamaged(err error, dataDir, what string) error {
	if !errors.Is(err, eventdb.ErrDamaged) {
		return err
	}
	store := filepath.Join(dataDir, eventdb.FileName)
	var b strings.Builder
	fmt.Fprintf(&b, "the event store is damaged, so the ledger will not %s on it: %v\n", what, err)
	fmt.Fprintf(&b, "Nothing was written to it. To recover, restore the latest backup:\n")
	from := "BACKUP_FILE"
	if bk := os.Getenv(envPrefix + "BACKUP_OUT"); bk != "" {
		if fi, statErr := os.Stat(bk); statErr == nil {
			from = bk
			fmt.Fprintf(&b, "  the latest backup is %s, written %s\n", bk, ukTime(fi.ModTime()))
		}
	}
	fmt.Fprintf(&b, "  gateledger restore --from %s --data %s --force\n", from, dataDir)
	fmt.Fprintf(&b, "restore checks the backup before it replaces anything, and keeps the damaged file beside it (%s.before-restore-<time>).\n", store)
	fmt.Fprintf(&b, "Then start the ledger again. Events recorded after that backup are not in it: record them again from their sources.")
	return &damageReport{msg: b.String(), err: err}
}

// damageReport is a damaged store explained; it matches eventdb.ErrDamaged.
type damageReport struct {
	msg string
	err error
}

func (d *damageReport) Error() string { return d.msg }
func (d *damageReport) Unwrap() error { return d.err }

// ukTime is t as GOV.UK writes it, in London time: "1 December 2026 at 9:05pm".
func ukTime(t time.Time) string {
	t = t.In(aggregates.UK)
	return t.Format("2 January 2006") + " at " + strings.ToLower(t.Format("3:04PM"))
}
