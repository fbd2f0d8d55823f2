package boltfile

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Consistency runs bbolt's own consistency check (bolt.Tx.Check: every page reachable
// once or free, keys in order) over tx and returns its first finding as a *DamageError
// naming path. Run it on a file Check has passed: bbolt's checker follows the file's
// page numbers through its mapping, and only a checked file cannot fault it. A panic
// inside the checker (it recovers its own) is reported the same way.
func Consistency(path string, tx *bolt.Tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &DamageError{Path: path, Problem: fmt.Sprintf("bbolt's consistency check failed: %v", v)}
		}
	}()
	var first error
	for cerr := range tx.Check() { // drained: the checker stops only at the end
		if first == nil {
			first = cerr
		}
	}
	if first != nil {
		return &DamageError{Path: path, Problem: "bbolt's consistency check failed: " + first.Error()}
	}
	return nil
}
