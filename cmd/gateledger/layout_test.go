package main

import (
	"bytes"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// modulePath is the import path every package of ours starts with.
const modulePath = "github.com/gateledger/gateledger"

// room is one part of the house: the packages that do one kind of work.
type room struct {
	name     string
	packages []string
}

// house is the layout the packages keep: every package of ours, in the room
// it belongs to, and the packages of ours it may import. Dependencies point
// inward, to the domain: a package may import only what its row allows, and
// TestLayoutKeepsItsRules fails on any other import. A new package must be
// given a row here (and a doc comment saying what it holds and may import).
var house = struct {
	rooms []room
	may   map[string][]string
}{
	rooms: []room{
		{"the binary", []string{"cmd/gateledger"}},
		{"transport", []string{"web", "web/pages", "web/request", "web/problem", "web/live", "web/inspect", "web/export"}},
		{"operator tools", []string{"bench", "loadtest", "migrate", "simulate", "demo", "progress"}},
		{"application", []string{"journeys", "ingest", "closure", "seal", "auth", "labels", "throttle"}},
		{"read models", []string{"projections"}},
		{"domain", []string{"aggregates", "calendar", "hmpps", "journeygen"}},
		{"event store", []string{"eventlog", "eventlog/eventlogtest", "eventstore", "eventstore/storetest", "esdbserver", "eventdb", "boltfile"}},
	},
	may: map[string][]string{
		"cmd/gateledger":        {"*"},
		"web":                   {"aggregates", "auth", "eventdb", "eventlog", "eventstore", "hmpps", "ingest", "journeys", "labels", "projections", "seal", "throttle", "web/export", "web/problem", "web/request"},
		"web/pages":             {"aggregates", "auth", "ingest", "journeys", "labels", "projections", "throttle", "web/export", "web/inspect", "web/problem", "web/request"},
		"web/request":           {"aggregates", "projections", "web/problem"},
		"web/problem":           {"aggregates", "auth", "eventstore", "journeys", "labels", "ledger", "projections", "projections/readmodel"},
		"web/live":              {"aggregates", "auth", "eventlog", "eventstore", "labels", "throttle"},
		"web/inspect":           {"aggregates", "auth", "eventlog", "eventstore", "journeys", "labels", "projections", "web/export"},
		"web/export":            {"aggregates", "eventlog", "labels", "projections"},
		"bench":                 {"aggregates", "eventstore", "journeygen", "journeys", "progress", "projections"},
		"loadtest":              {"aggregates", "auth", "eventlog", "eventstore", "ingest", "journeygen", "journeys", "projections", "web", "web/live"},
		"migrate":               {"eventstore"},
		"simulate":              {"aggregates", "auth", "journeygen"},
		"demo":                  {"aggregates", "auth", "eventlog", "eventstore", "journeygen", "progress"},
		"progress":              {},
		"journeys":              {"aggregates", "eventlog", "eventstore"},
		"ingest":                {"aggregates", "eventlog", "hmpps", "journeys"},
		"closure":               {"aggregates", "journeys", "projections"},
		"seal":                  {"aggregates", "eventlog", "eventstore"},
		"auth":                  {"aggregates", "eventlog", "eventstore"},
		"labels":                {"aggregates", "auth", "projections"},
		"throttle":              {},
		"projections":           {"aggregates", "boltfile", "eventlog", "eventstore"},
		"aggregates":            {},
		"calendar":              {},
		"hmpps":                 {"aggregates"},
		"journeygen":            {"aggregates", "eventlog", "eventstore"},
		"eventlog":              {"aggregates", "eventstore"},
		"eventlog/eventlogtest": {"eventstore"},
		"eventstore":            {"aggregates", "esdbserver"},
		"eventstore/storetest":  {"eventstore"},
		"esdbserver":            {"eventdb"},
		"eventdb":               {"boltfile"},
		"boltfile":              {},
	},
}

// ourImports reads, from the source (tests left out), every package of the
// module and the packages of ours each imports.
func ourImports(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		if _, ok := out[pkg]; !ok {
			out[pkg] = nil
		}
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			if dep, ok := strings.CutPrefix(p, modulePath+"/"); ok && !slices.Contains(out[pkg], dep) {
				out[pkg] = append(out[pkg], dep)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, deps := range out {
		sort.Strings(deps)
	}
	return out
}

// TestLayoutKeepsItsRules holds every package to its row of house: it is
// placed in a room, and imports nothing of ours its row does not allow.
func TestLayoutKeepsItsRules(t *testing.T) {
	imports := ourImports(t, filepath.Join("..", ".."))
	placed := map[string]bool{}
	for _, r := range house.rooms {
		for _, p := range r.packages {
			placed[p] = true
		}
	}
	for pkg, deps := range imports {
		may, ok := house.may[pkg]
		if !ok || !placed[pkg] {
			t.Errorf("package %s has no place in the house: give it a room and a row in layout_test.go", pkg)
			continue
		}
		if slices.Contains(may, "*") {
			continue
		}
		for _, dep := range deps {
			if !slices.Contains(may, dep) {
				t.Errorf("%s imports %s, which its row of the house does not allow", pkg, dep)
			}
		}
	}
	for pkg := range house.may {
		if _, ok := imports[pkg]; !ok {
			t.Errorf("the house has a row for %s, which is not a package of the module", pkg)
		}
	}
}

// layoutPicture draws the packages, room by room, and an arrow from each to
// what it imports directly, leaving out arrows implied by a longer path so
// that the picture stays readable.
func layoutPicture(imports map[string][]string) string {
	reach := func(from, to string, skip string) bool {
		seen := map[string]bool{}
		var walk func(p string) bool
		walk = func(p string) bool {
			for _, d := range imports[p] {
				if p == from && d == skip {
					continue
				}
				if d == to {
					return true
				}
				if !seen[d] {
					seen[d] = true
					if walk(d) {
						return true
					}
				}
			}
			return false
		}
		return walk(from)
	}
	id := func(p string) string { return strings.NewReplacer("/", "_").Replace(p) }
	var b bytes.Buffer
	b.WriteString("```mermaid\nflowchart TB\n")
	for i, r := range house.rooms {
		fmt.Fprintf(&b, "  subgraph r%d [%s]\n", i, r.name)
		for _, p := range r.packages {
			fmt.Fprintf(&b, "    %s[%s]\n", id(p), p)
		}
		b.WriteString("  end\n")
	}
	var pkgs []string
	for p := range imports {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		if p == "cmd/gateledger" {
			continue // it wires everything: its arrows would hide the rest
		}
		for _, d := range imports[p] {
			if !reach(p, d, d) {
				fmt.Fprintf(&b, "  %s --> %s\n", id(p), id(d))
			}
		}
	}
	b.WriteString("```\n")
	return b.String()
}

// TestREADMELayoutPicture keeps the picture of the house in the README the
// same as the code's imports; -update-readme redraws it.
func TestREADMELayoutPicture(t *testing.T) {
	const begin, end = "<!-- layout picture: generated by TestREADMELayoutPicture -->\n", "<!-- end of layout picture -->\n"
	readme := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no layout picture between %q and %q", begin, end)
	}
	want := layoutPicture(ourImports(t, filepath.Join("..", "..")))
	if got := text[i+len(begin) : j]; got != want {
		if *updateREADME {
			if err := os.WriteFile(readme, []byte(text[:i+len(begin)]+want+text[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README.md's layout picture differs from the code's imports; run go test ./cmd/gateledger -run TestREADMELayoutPicture -update-readme\n%s", want)
	}
}
