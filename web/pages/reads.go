package pages

import (
	"net/http"
	"strconv"
)

// at is the $all position in the query parameter "at", set by the redirect
// after a command so that the page shows what was just recorded: the reads of
// the page wait for it (ledger.ReadOptions.MinPosition). A missing or
// malformed "at" is zero, which waits for nothing more.
func at(r *http.Request) uint64 {
	n, err := strconv.ParseUint(r.URL.Query().Get("at"), 10, 64)
	if err != nil {
		return 0
	}
	return n
}
