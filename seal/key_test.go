package seal

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Instances started together on one key path all find the key missing: they must
// still end up with one key, the one on disk, or their seals would not form one
// chain (each would refuse to extend the others').
func TestLoadOrCreateKeyConcurrently(t *testing.T) {
	for round := range 20 {
		path := filepath.Join(t.TempDir(), "seal", "ed25519.key")
		var keys [4]ed25519.PrivateKey
		var wg sync.WaitGroup
		for i := range keys {
			wg.Go(func() {
				k, err := LoadOrCreateKey(path)
				if err != nil {
					t.Error(err)
				}
				keys[i] = k
			})
		}
		wg.Wait()
		onDisk, err := LoadKey(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range keys {
			if !onDisk.Equal(k) {
				t.Fatalf("round %d: caller %d got a key other than the one on disk", round, i)
			}
		}
		left, err := os.ReadDir(filepath.Dir(path))
		if err != nil {
			t.Fatal(err)
		}
		if len(left) != 1 {
			t.Fatalf("round %d: %d files beside the key, want the key alone", round, len(left))
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("round %d: key file mode %v (%v), want 0600", round, fi.Mode().Perm(), err)
		}
	}
}
