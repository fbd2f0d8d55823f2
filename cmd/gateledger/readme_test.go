package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite docs/configuration.md's table from the commands' flags")

// documentedCommands is every command whose flags docs/configuration.md's table
// lists.
var documentedCommands = [][]string{{"serve"}, {"replay"}, {"verify"}, {"backup"}, {"restore"}, {"migrate"}, {"simulate"}, {"import"},
	{"token", "create"}, {"token", "list"}, {"token", "revoke"}, {"seal", "write"}, {"seal", "export"}, {"seal", "check"}, {"bench"}, {"loadtest"}}

type flagDoc struct {
	name, typ, env, def, help string
}

var (
	flagLine   = regexp.MustCompile(`^  -(\S+)(?:\s+(\S+))?$`)
	envPart    = regexp.MustCompile(`\s*\(env (GATELEDGER_[A-Z0-9_]+)\)`)
	defaultEnd = regexp.MustCompile(`\s*\(default (.*)\)$`)
)

// commandFlags reads a command's flags from its -h output, as a user sees them.
func commandFlags(t *testing.T, args []string) []flagDoc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	if code := run(ctx, append(append([]string(nil), args...), "-h"), &out, &errOut); code != 0 {
		t.Fatalf("%v -h: exit %d\n%s", args, code, errOut.String())
	}
	var docs []flagDoc
	for _, line := range strings.Split(errOut.String(), "\n") {
		if m := flagLine.FindStringSubmatch(line); m != nil {
			docs = append(docs, flagDoc{name: m[1], typ: m[2]})
			continue
		}
		if rest, ok := strings.CutPrefix(line, "    \t"); ok && len(docs) > 0 {
			d := &docs[len(docs)-1]
			d.help = strings.TrimSpace(d.help + " " + rest)
		}
	}
	for i := range docs {
		d := &docs[i]
		if m := defaultEnd.FindStringSubmatch(d.help); m != nil {
			d.def = strings.Trim(m[1], `"`)
			d.help = strings.TrimSpace(d.help[:len(d.help)-len(m[0])])
		}
		if m := envPart.FindStringSubmatch(d.help); m != nil {
			d.env = m[1]
			d.help = strings.TrimSpace(strings.Replace(d.help, m[0], "", 1))
		}
		if d.def == "" {
			if d.typ == "" {
				d.def = "false"
			} else {
				d.def = "(empty)"
			}
		}
	}
	if len(docs) == 0 {
		t.Fatalf("%v -h lists no flags:\n%s", args, errOut.String())
	}
	return docs
}

// configTable is docs/configuration.md's table: one row per flag, with the
// commands that share it (same variable, default and meaning).
func configTable(t *testing.T) string {
	type row struct {
		d    flagDoc
		cmds []string
	}
	var rows []*row
	index := map[flagDoc]*row{}
	envFlag := map[string]string{}
	for _, c := range documentedCommands {
		for _, d := range commandFlags(t, c) {
			if d.env != "" {
				if prev, ok := envFlag[d.env]; ok && prev != d.name {
					t.Errorf("%s sets both --%s and --%s", d.env, prev, d.name)
				}
				envFlag[d.env] = d.name
			}
			r := index[d]
			if r == nil {
				r = &row{d: d}
				index[d] = r
				rows = append(rows, r)
			}
			r.cmds = append(r.cmds, strings.Join(c, " "))
		}
	}
	var b strings.Builder
	b.WriteString("| flag | environment variable | default | commands | meaning |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		env := "—"
		if r.d.env != "" {
			env = "`" + r.d.env + "`"
		}
		def := r.d.def
		if def != "(empty)" {
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `--%s` | %s | %s | %s | %s |\n", r.d.name, env, def, strings.Join(r.cmds, ", "), mdEscape.Replace(r.d.help))
	}
	return b.String()
}

// mdEscape keeps help text literal in a Markdown table.
var mdEscape = strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;")

const (
	tableBegin = "<!-- configuration table: generated from the flags by go test ./cmd/gateledger -run TestREADMEConfigurationTable -update-readme -->\n"
	tableEnd   = "<!-- end of configuration table -->\n"
)

// TestREADMEConfigurationTable: docs/configuration.md's table (the README links it) is exactly what the
// commands' flags say, so it cannot drift from them.
func TestREADMEConfigurationTable(t *testing.T) {
	want := configTable(t)
	readme, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i, j := strings.Index(s, tableBegin), strings.Index(s, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("docs/configuration.md has no configuration table between %q and %q", tableBegin, tableEnd)
	}
	got := s[i+len(tableBegin) : j]
	if got == want {
		return
	}
	if *updateREADME {
		if err := os.WriteFile("../../docs/configuration.md", []byte(s[:i+len(tableBegin)]+want+s[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for k := 0; k < max(len(gl), len(wl)); k++ {
		var g, w string
		if k < len(gl) {
			g = gl[k]
		}
		if k < len(wl) {
			w = wl[k]
		}
		if g != w {
			t.Fatalf("docs/configuration.md's table differs from the flags at row %d:\nREADME: %s\nflags:  %s\n(run go test ./cmd/gateledger -run TestREADMEConfigurationTable -update-readme)", k-1, g, w)
		}
	}
}
