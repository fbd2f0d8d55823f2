package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gateledger/gateledger/internal/eventdb"
	"github.com/gateledger/gateledger/internal/progress"
	"github.com/gateledger/gateledger/projections"
)

func backupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		dataDir, serverURL, token, out, signIns string
		lc                                      logConfig
	)
	f := newFlags("backup", stderr)
	f.string(&serverURL, "url", "URL", "", "base URL of the running ledger (e.g. http://127.0.0.1:8080): the copy is taken through its API, which needs an admin token")
	f.string(&token, "token", "TOKEN", "", "bearer token of an admin, for --url; empty reads the demo admin sign-in (see --sign-ins)")
	f.string(&signIns, "sign-ins", "SIGN_INS", "", "demo sign-ins file to read the admin token from when --token is empty; empty means <--data>/demo-sign-ins.json")
	f.string(&dataDir, "data", "DATA_DIR", "./data", "data directory of a stopped ledger, when --url is not set")
	f.string(&out, "out", "BACKUP_OUT", "", "file to write the copy to (required); written to a temporary file, synced, then renamed")
	lc.register(f)
	f.Usage = func() {
		fmt.Fprintln(f.Output(), "Usage: gateledger backup --out FILE [--url URL [--token TOKEN] | --data DIR]\n\nWrites a consistent copy of the embedded event store. While the ledger runs, the copy\nis taken through its API (--url, an admin --token, by default the demo admin sign-in\nin <--data>/demo-sign-ins.json); a stopped ledger's store is read from --data.\n\nFlags:")
		f.PrintDefaults()
	}
	if err := f.parse(args); err != nil {
		return err
	}
	if out == "" {
		fmt.Fprintln(stderr, "--out is required")
		return errUsage
	}
	if _, err := lc.logger(stderr); err != nil {
		return err
	}
	var info eventdb.BackupInfo
	err := writeAtomically(out, func(w io.Writer) error {
		if serverURL != "" {
			if token == "" {
				// As import and simulate do: the demo's admin sign-in.
				t, err := demoSignIn(dataDir, signIns, "admin")
				if err != nil {
					return err
				}
				token = t
			}
			return backupOverHTTP(ctx, serverURL, token, w, stderr)
		}
		if err := requireDataDir(dataDir, ""); err != nil {
			return err
		}
		db, err := eventdb.Open(dataDir, eventdb.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			// A copy of a damaged store would be damaged too.
			return storeDamaged(err, dataDir, "back up")
		}
		defer db.Close()
		var bar *progress.Reporter
		cw := &countingWriter{w: w}
		_, err = db.BackupTo(ctx, cw, func(i eventdb.BackupInfo) {
			bar = progress.New(stderr, "backup", float64(i.Size)/1e6, "MB")
			cw.report = func(n int64) { bar.Update(float64(n)/1e6, float64(n)/1e6) }
		})
		if bar != nil {
			bar.Finish()
		}
		return err
	}, func(tmp string) error {
		// The copy is checked before it takes the final name.
		var err error
		info, err = eventdb.Inspect(ctx, tmp)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s: %s (%d bytes), %d events, last position %d\n", out, formatBytes(info.Size), info.Size, info.Records, info.LastPosition)
	return nil
}

// backupOverHTTP streams GET /v1/backup of the running ledger to w.
func backupOverHTTP(ctx context.Context, base, token string, w io.Writer, stderr io.Writer) error {
	if token == "" {
		return errors.New("--url needs --token (an admin's bearer token)")
	}
	u, err := url.Parse(strings.TrimRight(base, "/") + "/v1/backup")
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--url %q: want http(s)://host:port", base)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("backup: %s answered %s: %s", u, resp.Status, strings.TrimSpace(string(body)))
	}
	bar := progress.New(stderr, "backup", float64(resp.ContentLength)/1e6, "MB")
	cw := &countingWriter{w: w, report: func(n int64) { bar.Update(float64(n)/1e6, float64(n)/1e6) }}
	n, err := io.Copy(cw, resp.Body)
	bar.Finish()
	if err != nil {
		return fmt.Errorf("backup: the copy was cut short after %d bytes: %w", n, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fmt.Errorf("backup: received %d bytes of %d", n, resp.ContentLength)
	}
	return nil
}

// countingWriter reports how many bytes went through it.
type countingWriter struct {
	w      io.Writer
	n      int64
	report func(int64)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if c.report != nil {
		c.report(c.n)
	}
	return n, err
}

// writeAtomically writes a file so that it is either absent or complete: a temporary
// file beside it is written, checked, synced and renamed, and the directory synced.
func writeAtomically(path string, write func(io.Writer) error, check func(tmp string) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if check != nil {
		if err := check(tmp.Name()); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	ok = true
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func restoreCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		from, dataDir string
		force         bool
		lc            logConfig
	)
	f := newFlags("restore", stderr)
	f.string(&from, "from", "RESTORE_FROM", "", "backup file to restore (required)")
	f.string(&dataDir, "data", "DATA_DIR", "./data", "data directory to restore the store into")
	f.bool(&force, "force", "RESTORE_FORCE", false, "replace a store that already holds events (the old file is kept beside it as events.db.before-restore-<time>)")
	lc.register(f)
	if err := f.parse(args); err != nil {
		return err
	}
	if from == "" {
		fmt.Fprintln(stderr, "--from is required")
		return errUsage
	}
	log, err := lc.logger(stderr)
	if err != nil {
		return err
	}
	// The copy must at least be a sound bbolt file before anything is touched.
	info, err := eventdb.Inspect(ctx, from)
	if errors.Is(err, eventdb.ErrDamaged) {
		return fmt.Errorf("the backup cannot be restored, and nothing was changed: %w\nChoose an earlier backup and run restore again", err)
	}
	if err != nil {
		return fmt.Errorf("the backup cannot be restored: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	target := filepath.Join(dataDir, eventdb.FileName)
	if same, _ := sameFile(from, target); same {
		return errors.New("--from is the store itself")
	}
	// A store that holds events is only replaced when asked; an empty one (a ledger
	// started once on an empty directory) is not worth keeping.
	holdsEvents, damaged := false, false
	if _, err := os.Stat(target); err == nil {
		cur, err := eventdb.Inspect(ctx, target)
		switch {
		case errors.Is(err, eventdb.ErrLocked):
			return fmt.Errorf("%w: stop the ledger first", err)
		case err != nil:
			holdsEvents = true // unreadable: kept aside like any other
			damaged = errors.Is(err, eventdb.ErrDamaged)
			log.Warn("the store being replaced cannot be read", "err", err)
		default:
			holdsEvents = cur.Records > 0
		}
	}
	// Holding the target's lock for the whole restore keeps a ledger from starting on
	// the old file meanwhile; one already running has it, and the restore stops here.
	lock, existing, created, err := lockStoreFile(target)
	if err != nil {
		return err
	}
	restored := false
	defer func() {
		if created && !restored {
			_ = os.Remove(target)
		}
		_ = lock.Close()
	}()
	if damaged && !force {
		return fmt.Errorf("%s is damaged: pass --force to replace it with the backup (the damaged file is kept beside it)", target)
	}
	if holdsEvents && !force {
		return fmt.Errorf("%s already holds a store with events (%d bytes): pass --force to replace it (the old file is kept)", target, existing)
	}

	work, err := os.MkdirTemp(dataDir, ".restore-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	staged := filepath.Join(work, eventdb.FileName)
	if err := copyFile(from, staged, stderr, info.Size); err != nil {
		return fmt.Errorf("copy the backup: %w", err)
	}
	// Every hash chain in the copy, as `gateledger verify` checks them, through a
	// store started on the staged copy.
	sc := storeConfig{dataDir: work}
	store, r, closeLedger, err := openLedger(ctx, &sc, log)
	if err != nil {
		return fmt.Errorf("open the backup: %w", err)
	}
	rep, err := projections.VerifyAll(ctx, r, store.Client)
	closeLedger()
	if err != nil {
		return fmt.Errorf("verify the backup: %w", err)
	}
	if !rep.OK() {
		for _, b := range rep.Breaks {
			fmt.Fprintf(stderr, "BREAK %s at $all position %d: %s\n", b.Stream, b.BreakPosition, b.Break)
		}
		return fmt.Errorf("the backup does not verify: %d broken chains; nothing was restored", len(rep.Breaks))
	}

	if holdsEvents {
		aside := target + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(target, aside); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "the replaced store is kept as %s\n", aside)
	}
	if err := os.Rename(staged, target); err != nil {
		return err
	}
	restored = true
	// The read models described the old store: they are rebuilt from the restored one
	// at the next start.
	if err := os.Remove(filepath.Join(dataDir, "projections.db")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := syncDir(dataDir); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s into %s: %d events in %d hash-chained streams verified, last position %d; read models will be rebuilt at the next start\n",
		from, target, info.Records, rep.Streams, info.LastPosition)
	return nil
}

// lockStoreFile takes the lock a running store holds on its file (bbolt's flock),
// creating the file empty if there is none, and reports the file's size and whether
// it was created. ErrLocked means a ledger has it open.
func lockStoreFile(path string) (f *os.File, size int64, created bool, err error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		created = true
	}
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, 0, false, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, 0, false, fmt.Errorf("%w: %s is in use (is the ledger running? stop it first)", eventdb.ErrLocked, path)
		}
		return nil, 0, false, fmt.Errorf("lock %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, 0, false, err
	}
	return f, fi.Size(), created, nil
}

func sameFile(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}

// copyFile copies src to dst (new, 0600) and syncs it, with a progress bar.
func copyFile(src, dst string, stderr io.Writer, size int64) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	bar := progress.New(stderr, "copy", float64(size)/1e6, "MB")
	cw := &countingWriter{w: out, report: func(n int64) { bar.Update(float64(n)/1e6, float64(n)/1e6) }}
	_, err = io.Copy(cw, in)
	bar.Finish()
	if err == nil {
		err = out.Sync()
	}
	return errors.Join(err, out.Close())
}

// formatBytes is n in the largest binary unit that keeps it above 1.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
