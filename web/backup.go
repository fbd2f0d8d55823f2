package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/internal/eventdb"
	"github.com/gateledger/gateledger/ledger"
	"github.com/gateledger/gateledger/web/problem"
)

// accessBackup is the access-log entry of a backup: a copy of every history.
const accessBackup = "back up the event store"

// backup streams a consistent copy of the embedded store's file (admins only), for
// `gateledger backup --url`: the running server holds the file's lock, so a live copy
// has to come through it. It is recorded in the access log before the first byte, and
// the answer carries Content-Length, so a copy cut short is seen as such.
func (s *server) backup(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if !auth.CanManageTokens(p) { // the admin role, validated
		return auth.ErrForbidden
	}
	node := s.cfg.Store.Node
	if node == nil || node.DB == nil {
		return problem.New(problem.NotFound, "this ledger runs on an external event store: back it up with that store's own tools")
	}
	if _, err := ledger.ReadOrganisation(r.Context(), s.cfg.Ledger, p, ledger.OrganisationRead{Allow: auth.CanManageTokens,
		Access: accessBackup}, ledger.Nothing); err != nil {
		return err
	}
	// A large store takes a while to send; the server's usual write deadline is for
	// ordinary answers.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(12 * time.Hour))
	started := false
	info, err := node.DB.BackupTo(r.Context(), w, func(info eventdb.BackupInfo) {
		h := w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Length", strconv.FormatInt(info.Size, 10))
		h.Set("Content-Disposition", `attachment; filename="gateledger-events-`+s.now().UTC().Format("20060102T150405Z")+`.db"`)
		h.Set("Gateledger-Position", strconv.FormatUint(info.LastPosition, 10))
		h.Set("Gateledger-Backup-Records", strconv.FormatUint(info.Records, 10))
		w.WriteHeader(http.StatusOK)
		started = true
	})
	if err != nil && started {
		// The status is sent: cut the connection so the client sees a short body.
		s.log.ErrorContext(r.Context(), "backup stream failed", "err", err, "size", info.Size)
		panic(http.ErrAbortHandler)
	}
	return err
}
