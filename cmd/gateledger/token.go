package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/internal/eventdb"
)

const tokenUsage = `Usage:
  gateledger token create --role ROLE [--org ORG] --name NAME [--expires 90d|never] [flags]
  gateledger token list [flags]
  gateledger token revoke ID [--reason TEXT] [flags]

Roles: prison (--org a prison code such as MDI), provider (--org C01..C21, N01..N07 or
NPS-A..NPS-L), inspector (no --org), feed, admin.

In embedded mode the event store's data directory can be open in one process only: run
token commands while the ledger is stopped, or against the running ledger with
--eventstore set to the connection string of its --esdb-listen address.
`

// defaultTokenExpiry is how long a token lives unless --expires says otherwise:
// auth.DefaultTokenLifetime, which the API's token route uses too.
var defaultTokenExpiry = strconv.Itoa(int(auth.DefaultTokenLifetime/(24*time.Hour))) + "d"

// tokenConfig is the flags every token subcommand shares: where the store is (the same
// flags and environment variables as serve) and how to log.
type tokenConfig struct {
	dataDir    string
	eventstore string
	log        logConfig
	// create lets token create make the data directory (a first admin
	// token before the first serve, which then uses it); list and revoke
	// never create one: on a mistyped path they would report an empty store.
	create bool
}

func (c *tokenConfig) register(f *flags) {
	f.string(&c.dataDir, "data", "DATA_DIR", "./data", "data directory of the embedded event store")
	f.string(&c.eventstore, "eventstore", "EVENTSTORE", "", "connection string of an external KurrentDB/EventStoreDB (esdb://...); empty opens the embedded store")
	// A command-line tool logs only what goes wrong unless asked.
	f.string(&c.log.format, "log-format", "LOG_FORMAT", "text", "log format: json or text")
	f.string(&c.log.level, "log-level", "LOG_LEVEL", "warn", "log level: debug, info, warn or error")
}

// tokenCmd runs gateledger token.
func tokenCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, tokenUsage)
		return errUsage
	}
	switch args[0] {
	case "create":
		return tokenCreate(ctx, args[1:], stdout, stderr)
	case "list":
		return tokenList(ctx, args[1:], stdout, stderr)
	case "revoke":
		return tokenRevoke(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, tokenUsage)
		return nil
	}
	fmt.Fprintf(stderr, "gateledger token: unknown subcommand %q\n\n%s", args[0], tokenUsage)
	return errUsage
}

func tokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg tokenConfig
	var role, org, name, expires string
	f := newFlags("token create", stderr)
	cfg.register(f)
	f.StringVar(&role, "role", "", "prison, provider, inspector, feed or admin")
	f.StringVar(&org, "org", "", "organisation code: a prison code for prison, C01..C21, N01..N07 or NPS-A..NPS-L for provider, none for inspector")
	f.StringVar(&name, "name", "", "what the token is for, for people reading the list (e.g. \"MDI reception desk\")")
	f.StringVar(&expires, "expires", defaultTokenExpiry, "lifetime: a number of days (90d), a Go duration (12h) or never")
	if err := f.parse(args); err != nil {
		return err
	}
	cfg.create = true
	r, err := auth.ParseRole(role)
	if err != nil {
		return err
	}
	if name == "" {
		return errors.New("--name is required: say what the token is for")
	}
	if err := auth.ValidateRoleOrg(r, org); err != nil {
		return err
	}
	life, err := parseExpiry(expires)
	if err != nil {
		return err
	}
	var expiresAt time.Time
	if life > 0 {
		expiresAt = time.Now().Add(life)
	}
	return withTokens(ctx, &cfg, stderr, func(toks *auth.Tokens) error {
		tok, info, err := toks.Create(ctx, r, org, name, operator(), expiresAt)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, tok)
		exp := "never expires"
		if !info.ExpiresAt.IsZero() {
			exp = "expires " + info.ExpiresAt.Format(time.RFC3339)
		}
		fmt.Fprintf(stderr, "\nCreated token %s (%s%s, %q, %s).\n", info.ID, info.Role, orgSuffix(info.Org), info.Name, exp)
		fmt.Fprintf(stderr, "*** This is the only time the token is shown: it cannot be shown again, because only ***\n*** a hash of it is stored. Give it to its holder now over a secure channel.         ***\n")
		fmt.Fprintf(stderr, "Revoke it with: gateledger token revoke %s\n", info.ID)
		return nil
	})
}

func tokenList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg tokenConfig
	f := newFlags("token list", stderr)
	cfg.register(f)
	if err := f.parse(args); err != nil {
		return err
	}
	return withTokens(ctx, &cfg, stderr, func(toks *auth.Tokens) error {
		list, err := toks.List(ctx)
		if err != nil {
			return err
		}
		now := time.Now()
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tROLE\tORG\tNAME\tISSUED\tBY\tEXPIRES\tSTATUS")
		for _, t := range list {
			exp := "never"
			if !t.ExpiresAt.IsZero() {
				exp = t.ExpiresAt.Format(time.RFC3339)
			}
			status := "active"
			switch {
			case t.Revoked():
				status = "revoked " + t.RevokedAt.Format(time.RFC3339) + " by " + t.RevokedBy
				if t.RevokeReason != "" {
					status += ": " + t.RevokeReason
				}
			case t.Expired(now):
				status = "expired"
			}
			org := t.Org
			if org == "" {
				org = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, org, t.Name, t.IssuedAt.Format(time.RFC3339), t.IssuedBy, exp, status)
		}
		return tw.Flush()
	})
}

func tokenRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg tokenConfig
	var reason string
	f := newFlags("token revoke", stderr)
	cfg.register(f)
	f.StringVar(&reason, "reason", "", "why the token is revoked (recorded)")
	// The id may come before or after the flags.
	if err := f.FlagSet.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if f.NArg() == 0 {
		fmt.Fprintln(stderr, "gateledger token revoke: say which token (its ID, from gateledger token list)")
		return errUsage
	}
	id := f.Arg(0)
	if err := f.parse(f.Args()[1:]); err != nil {
		return err
	}
	if !auth.ValidTokenID(id) {
		return fmt.Errorf("%q is not a token ID (12 hexadecimal characters, as gateledger token list shows)", id)
	}
	return withTokens(ctx, &cfg, stderr, func(toks *auth.Tokens) error {
		info, err := toks.Revoke(ctx, id, operator(), reason)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %s (%s%s, %q) revoked at %s by %s\n", info.ID, info.Role, orgSuffix(info.Org), info.Name,
			info.RevokedAt.Format(time.RFC3339), info.RevokedBy)
		return nil
	})
}

// withTokens opens the event store as serve does, runs fn on its token store and closes
// the store. A data directory held by a running ledger is reported as such.
func withTokens(ctx context.Context, cfg *tokenConfig, stderr io.Writer, fn func(*auth.Tokens) error) error {
	log, err := cfg.log.logger(stderr)
	if err != nil {
		return err
	}
	if err := requireDataDir(cfg.dataDir, cfg.eventstore); err != nil {
		if !cfg.create || !errors.Is(err, errNoDataDir) {
			return err
		}
		fmt.Fprintf(stderr, "Creating the data directory %s: it did not exist.\n", cfg.dataDir)
	}
	store, err := eventstore.Open(ctx, eventstore.Config{ConnectionString: cfg.eventstore, DataDir: cfg.dataDir, Logger: log})
	if errors.Is(err, eventdb.ErrLocked) {
		return fmt.Errorf("the embedded event store in %s is open in another process, most likely the running ledger: "+
			"stop it and try again, or point --eventstore at the connection string of its --esdb-listen address: %w", cfg.dataDir, err)
	}
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		if cerr := store.Close(closeCtx); cerr != nil {
			log.Error("closing the event store", "err", cerr)
		}
	}()
	return fn(auth.NewTokens(store.Client, auth.TokensConfig{Logger: log}))
}

// parseExpiry reads --expires: "never" (0), a whole number of days ("90d"), or a Go
// duration ("12h").
func parseExpiry(s string) (time.Duration, error) {
	if s == "never" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 3650 {
			return 0, fmt.Errorf("--expires %q: want a number of days from 1 to 3650 (90d), a duration (12h) or never", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--expires %q: want a number of days (90d), a duration (12h) or never", s)
	}
	return d, nil
}

// operator is who is recorded as issuing or revoking: the operating-system user on
// this host.
func operator() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return "cli:" + name + "@" + host
}

func orgSuffix(org string) string {
	if org == "" {
		return ""
	}
	return " " + org
}
