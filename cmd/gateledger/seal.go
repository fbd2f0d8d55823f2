package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/seal"
)

// sealConfig is the seal flags: where the signing key is, and how often serve seals.
type sealConfig struct {
	keyFile  string
	interval string
}

func (c *sealConfig) registerKey(f *flags) {
	f.string(&c.keyFile, "seal-key", "SEAL_KEY", "", "ed25519 key that signs seals (PKCS #8 PEM; generated when missing); empty means seal/ed25519.key in the data directory. Instances sharing one store should share one key")
}

func (c *sealConfig) registerInterval(f *flags) {
	f.string(&c.interval, "seal-interval", "SEAL_INTERVAL", "1h", "how often to seal the journeys' history (a Go duration such as 30m or 1h): an hour bounds what an undetected deletion can hide to an hour's events; 0 turns periodic sealing off")
}

func (c *sealConfig) keyPath(dataDir string) string {
	if c.keyFile != "" {
		return c.keyFile
	}
	return seal.KeyFile(dataDir)
}

func (c *sealConfig) every() (time.Duration, error) {
	d, err := time.ParseDuration(c.interval)
	if err != nil || d < 0 || (d > 0 && d < time.Second) {
		return 0, fmt.Errorf("--seal-interval %q: want 0 or a duration of at least 1s, such as 30m or 1h", c.interval)
	}
	return d, nil
}

// trustedKey is the public half of the seal key, or nil when there is no key file
// (verify then checks each seal with the key it names, and says so).
func (c *sealConfig) trustedKey(dataDir string) (ed25519.PublicKey, error) {
	key, err := seal.LoadKey(c.keyPath(dataDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return key.Public().(ed25519.PublicKey), nil
}

const sealUsage = `Usage:
  gateledger seal write [flags]    write a seal now (stopped ledger, or an external store)
  gateledger seal export [flags]   write the latest seal's root and one person's inclusion proof to files
  gateledger seal check [flags]    check a root and a proof from export, without any store

A running ledger seals every --seal-interval; POST /v1/seals (admins) seals it now,
and inspectors fetch GET /v1/seals/latest and GET /v1/journeys/{noms}/seal-proof.
`

func sealCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, sealUsage)
		return errUsage
	}
	switch args[0] {
	case "write":
		return sealWrite(ctx, args[1:], stdout, stderr)
	case "export":
		return sealExport(ctx, args[1:], stdout, stderr)
	case "check":
		return sealCheck(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, sealUsage)
		return nil
	}
	fmt.Fprintf(stderr, "unknown seal command %q\n\n%s", args[0], sealUsage)
	return errUsage
}

// openStoreOnly opens the event store for a seal command: no read models needed.
func openStoreOnly(ctx context.Context, sc *storeConfig, lc *logConfig, stderr io.Writer) (*eventstore.Conn, *slog.Logger, error) {
	log, err := lc.logger(stderr)
	if err != nil {
		return nil, nil, err
	}
	if err := requireDataDir(sc.dataDir, sc.eventstore); err != nil {
		return nil, nil, err
	}
	store, err := eventstore.Open(ctx, eventstore.Config{ConnectionString: sc.eventstore, DataDir: sc.dataDir, Logger: log})
	return store, log, err
}

func sealWrite(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var sc storeConfig
	var kc sealConfig
	var lc logConfig
	f := newFlags("seal write", stderr)
	sc.register(f)
	kc.registerKey(f)
	lc.register(f)
	if err := f.parse(args); err != nil {
		return err
	}
	key, err := seal.LoadOrCreateKey(kc.keyPath(sc.dataDir))
	if err != nil {
		return err
	}
	store, log, err := openStoreOnly(ctx, &sc, &lc, stderr)
	if err != nil {
		return err
	}
	defer store.Close(context.WithoutCancel(ctx))
	res, err := (&seal.Sealer{Client: store.Client, Key: key, Logger: log}).Seal(ctx, seal.Options{})
	if err != nil {
		return err
	}
	if !res.Written {
		fmt.Fprintf(stdout, "no seal written: %s; run the command again\n", res.Skipped)
		return nil
	}
	printSeal(stdout, "sealed", res.Seal)
	return nil
}

func printSeal(w io.Writer, verb string, s *seal.Signed) {
	k, _ := s.Key()
	fmt.Fprintf(w, "%s: seal %d at %s, %d journeys (%d changed), root %s, key %s\n", verb, s.Sequence, ukTime(s.SealedAt),
		s.Size, s.Changed, s.Root, seal.KeyFingerprint(k))
}

func sealExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var sc storeConfig
	var kc sealConfig
	var lc logConfig
	var noms, rootFile, proofFile string
	f := newFlags("seal export", stderr)
	sc.register(f)
	kc.registerKey(f)
	lc.register(f)
	f.string(&noms, "noms", "SEAL_NOMS", "", "prison number of the person whose inclusion proof to export (required)")
	f.string(&rootFile, "root", "SEAL_ROOT", "root.json", "file to write the latest seal's signed root to")
	f.string(&proofFile, "proof", "SEAL_PROOF", "proof.json", "file to write the person's inclusion proof to")
	if err := f.parse(args); err != nil {
		return err
	}
	if noms == "" {
		fmt.Fprintln(stderr, "--noms is required")
		return errUsage
	}
	trusted, err := kc.trustedKey(sc.dataDir)
	if err != nil {
		return err
	}
	store, _, err := openStoreOnly(ctx, &sc, &lc, stderr)
	if err != nil {
		return err
	}
	defer store.Close(context.WithoutCancel(ctx))
	root, proof, err := seal.Export(ctx, store.Client, trusted, noms)
	if err != nil {
		return err
	}
	if err := writeJSONFile(rootFile, root); err != nil {
		return err
	}
	if err := writeJSONFile(proofFile, proof); err != nil {
		return err
	}
	printSeal(stdout, "exported", &root)
	fmt.Fprintf(stdout, "%s is sealed at revision %d; check with: gateledger seal check --root %s --proof %s\n", proof.Stream, proof.Revision, rootFile, proofFile)
	return nil
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// errNotProven is seal check's answer when the files do not prove what they claim.
var errNotProven = errors.New("the seal files do not check")

func sealCheck(args []string, stdout, stderr io.Writer) error {
	var rootFile, proofFile, key string
	f := newFlags("seal check", stderr)
	f.string(&rootFile, "root", "SEAL_ROOT", "root.json", "the signed root exported from the ledger")
	f.string(&proofFile, "proof", "SEAL_PROOF", "proof.json", "the inclusion proof exported from the ledger")
	f.string(&key, "key-fingerprint", "SEAL_KEY_FINGERPRINT", "", "the ledger's seal key fingerprint (SHA256:...) from a source you trust; the root must be signed by it")
	if err := f.parse(args); err != nil {
		return err
	}
	rb, err := os.ReadFile(rootFile)
	if err != nil {
		return fmt.Errorf("read the root: %w", err)
	}
	pb, err := os.ReadFile(proofFile)
	if err != nil {
		return fmt.Errorf("read the proof: %w", err)
	}
	root, err := seal.DecodeSigned(rb)
	if err != nil {
		return fmt.Errorf("%s: %w", rootFile, err)
	}
	proof, err := seal.DecodeProof(pb)
	if err != nil {
		return fmt.Errorf("%s: %w", proofFile, err)
	}
	pub, _ := root.Key()
	fp := seal.KeyFingerprint(pub)
	if err := seal.Check(root, proof); err != nil {
		fmt.Fprintf(stdout, "NOT PROVEN: %v\n", err)
		return errNotProven
	}
	if key != "" && key != fp {
		fmt.Fprintf(stdout, "NOT PROVEN: the root is signed by key %s, not by %s; ask the ledger's operator which key is theirs\n", fp, key)
		return errNotProven
	}
	fmt.Fprintf(stdout, "OK: %s was sealed at revision %d with hash %s in seal %d of %s (root %s, %d journeys), signed by key %s\n",
		proof.Stream, proof.Revision, proof.Hash, root.Sequence, ukTime(root.SealedAt), root.Root, root.Size, fp)
	if key == "" {
		fmt.Fprintln(stdout, "Compare that key with the one the ledger's operator publishes (or pass --key-fingerprint): a signature proves nothing about a key you have not checked.")
	}
	return nil
}
