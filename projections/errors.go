package projections

import (
	"errors"
	"fmt"
)

// ErrNotFound matches *NotFoundError under errors.Is.
var ErrNotFound = errors.New("not found")

// NotFoundError says a read model has nothing under a key: the person has no events
// yet, or the projection has not reached them (use Runner.WaitFor for read-your-writes).
type NotFoundError struct {
	// Projection is the read model asked.
	Projection string
	// Key is what was looked up (a NOMS number, a stream).
	Key string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("projection %s: %s not found", e.Projection, e.Key)
}

// Is matches ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }
