package pages

import (
	"fmt"

	"github.com/gateledger/gateledger/auth"
)

// errorsJoinUnavailable marks err as the ledger being unavailable, so that
// the page answers 503.
func errorsJoinUnavailable(err error) error {
	return fmt.Errorf("%w: %w", auth.ErrUnavailable, err)
}
