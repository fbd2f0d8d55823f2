package readmodel

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestStateFileSurvivesOnlyTheBootItWasWrittenIn(t *testing.T) {
	tests := []struct {
		name string
		// crashed: the previous process died without Close, in boot "boot-1".
		crashed  bool
		bootNow  string
		wantKept bool
		wantSync bool // the reopened file is written with fsync
	}{
		{name: "clean close, same boot", bootNow: "boot-1", wantKept: true},
		{name: "clean close, machine restarted", bootNow: "boot-2", wantKept: true},
		{name: "process crash, same boot", crashed: true, bootNow: "boot-1", wantKept: true},
		{name: "machine restarted after unsynced writes", crashed: true, bootNow: "boot-2", wantKept: false},
		{name: "boot unknown after unsynced writes", crashed: true, bootNow: "", wantKept: false, wantSync: true},
		{name: "boot unknown after clean close", bootNow: "", wantKept: true, wantSync: true},
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "projections.db")
			// Given a state file written in boot-1 without fsync,
			sf, err := openStateFile(path, "boot-1", log)
			if err != nil {
				t.Fatal(err)
			}
			if !sf.db.NoSync || !sf.db.NoGrowSync {
				t.Fatal("a file in a known boot is written or grown with fsync")
			}
			if _, err := os.Stat(path + unsyncedSuffix); err != nil {
				t.Fatalf("no marker while unsynced: %v", err)
			}
			err = sf.db.Update(func(tx *bolt.Tx) error {
				b, err := tx.CreateBucket([]byte("b"))
				if err != nil {
					return err
				}
				return b.Put([]byte("k"), []byte("v"))
			})
			if err != nil {
				t.Fatal(err)
			}
			// that was closed cleanly or left by a crash,
			if tt.crashed {
				if err := sf.db.Close(); err != nil { // the marker stays, as after a crash
					t.Fatal(err)
				}
			} else {
				if err := sf.close(); err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(path + unsyncedSuffix); !os.IsNotExist(err) {
					t.Fatalf("marker left after a clean close: %v", err)
				}
			}
			// when it is opened again,
			sf, err = openStateFile(path, tt.bootNow, log)
			if err != nil {
				t.Fatal(err)
			}
			defer sf.close()
			// then what it held is kept only if it cannot be torn.
			var kept bool
			_ = sf.db.View(func(tx *bolt.Tx) error {
				kept = tx.Bucket([]byte("b")) != nil
				return nil
			})
			if kept != tt.wantKept {
				t.Errorf("kept = %v, want %v", kept, tt.wantKept)
			}
			if sf.db.NoSync == tt.wantSync {
				t.Errorf("NoSync = %v, want %v", sf.db.NoSync, !tt.wantSync)
			}
			_, err = os.Stat(path + unsyncedSuffix)
			if hasMarker := err == nil; hasMarker == tt.wantSync {
				t.Errorf("marker present = %v while NoSync = %v", hasMarker, sf.db.NoSync)
			}
		})
	}
}

// TestADamagedStateFileIsRebuilt: a state file with a zeroed page, or cut short, is
// discarded (the read models are rebuilt from the log) instead of crashing the process.
func TestADamagedStateFileIsRebuilt(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for name, damage := range map[string]func(path string) error{
		"zeroed pages": func(path string) error {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt(make([]byte, 64*4096), 2*4096) // every page after the meta pages
			return err
		},
		"cut short": func(path string) error { return os.Truncate(path, 3*4096) },
		"emptied":   func(path string) error { return os.Truncate(path, 0) },
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "projections.db")
			sf, err := openStateFile(path, "", log)
			if err != nil {
				t.Fatal(err)
			}
			err = sf.db.Update(func(tx *bolt.Tx) error {
				b, err := tx.CreateBucket([]byte("b"))
				if err != nil {
					return err
				}
				for i := range 500 {
					if err := b.Put([]byte{byte(i >> 8), byte(i)}, make([]byte, 100)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := sf.close(); err != nil {
				t.Fatal(err)
			}
			if err := damage(path); err != nil {
				t.Fatal(err)
			}
			sf, err = openStateFile(path, "", log)
			if err != nil {
				t.Fatalf("a damaged state file is not rebuilt: %v", err)
			}
			defer sf.close()
			_ = sf.db.View(func(tx *bolt.Tx) error {
				if tx.Bucket([]byte("b")) != nil {
					t.Error("the damaged state was kept")
				}
				return nil
			})
		})
	}
}
