package seal

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// KeyFile is where the seal key lives in a data directory, beside the embedded
// store's generated secrets (which live in esdb/).
func KeyFile(dataDir string) string { return filepath.Join(dataDir, "seal", "ed25519.key") }

// LoadOrCreateKey reads the ed25519 seal key from path (PKCS #8 PEM), generating and
// writing one (0600, directory 0700) when there is none. Ledger instances that share
// one store should share one key file, so that their seals verify as one chain.
//
// Instances started together on one key path all find it missing: the key is written
// to a file of its own and then linked to path, which fails when another instance
// linked its key first; that key is then read and used, so that every instance signs
// with the one key on disk.
func LoadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	key, err := LoadKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	_, key, err = ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate seal key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode seal key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("write seal key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err = errors.Join(err, tmp.Close()); err != nil {
		return nil, fmt.Errorf("write seal key: %w", err)
	}
	switch err := os.Link(tmp.Name(), path); {
	case errors.Is(err, fs.ErrExist):
		return LoadKey(path) // another instance's key, complete before it was linked
	case err != nil:
		// A file system without hard links: the key is renamed into place, as
		// it is complete; only instances started at the same moment may then differ.
		if err := os.Rename(tmp.Name(), path); err != nil {
			return nil, fmt.Errorf("write seal key: %w", err)
		}
	}
	return key, nil
}

// LoadKey reads the ed25519 seal key from path; a missing file is an error matching
// fs.ErrNotExist.
func LoadKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read seal key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("seal key %s: not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("seal key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("seal key %s: not an ed25519 key", path)
	}
	return key, nil
}
