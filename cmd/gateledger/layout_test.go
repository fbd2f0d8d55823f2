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
		{"the process, wired once", []string{"instance", "instance/instancetest"}},
		{"transport", []string{"web", "web/pages", "web/request", "web/problem", "web/live", "web/inspect", "web/export"}},
		{"application", []string{"ledger", "journeys", "ingest", "closure", "seal", "auth", "labels"}},
		{"read models", []string{"projections", "projections/readmodel", "folds"}},
		{"domain", []string{"aggregates", "calendar", "hmpps"}},
		{"event store boundary", []string{"eventstore", "eventstore/storetest", "eventlog", "eventlog/eventlogtest"}},
		{"internal: machinery and operator tools", []string{"internal/esdbserver", "internal/eventdb", "internal/boltfile",
			"internal/throttle", "internal/progress", "internal/journeygen", "internal/bench", "internal/loadtest",
			"internal/migrate", "internal/simulate", "internal/demo"}},
	},
	may: map[string][]string{
		"cmd/gateledger":        {"*"},
		"instance":              {"*"},
		"instance/instancetest": {"aggregates", "auth", "calendar", "eventlog/eventlogtest", "instance", "internal/throttle"},
		// web/backup.go streams the embedded node's backup: the one place
		// transport reaches the embedded store.
		"web":       {"aggregates", "auth", "eventlog", "eventstore", "folds", "hmpps", "ingest", "internal/eventdb", "internal/throttle", "journeys", "labels", "ledger", "projections", "projections/readmodel", "seal", "web/export", "web/problem", "web/request"},
		"web/pages": {"aggregates", "auth", "eventlog", "ingest", "internal/throttle", "journeys", "labels", "ledger", "projections", "projections/readmodel", "web/export", "web/inspect", "web/problem", "web/request"},
		// What the API and the pages both read requests and refusals with:
		// neither front end imports the other.
		"web/request": {"aggregates", "projections", "web/problem"},
		"web/problem": {"aggregates", "auth", "eventstore", "journeys", "labels", "ledger", "projections", "projections/readmodel"},
		"web/live":    {"aggregates", "auth", "eventlog", "eventstore", "folds", "internal/throttle", "labels"},
		"web/inspect": {"aggregates", "auth", "eventlog", "eventstore", "folds", "journeys", "labels", "ledger", "projections", "projections/readmodel", "web/export"},
		"web/export":  {"aggregates", "eventlog", "labels", "projections"},

		"ledger":   {"aggregates", "auth", "eventlog", "journeys", "projections/readmodel"},
		"journeys": {"aggregates", "eventlog", "eventstore", "folds"},
		"ingest":   {"aggregates", "eventlog", "hmpps", "journeys"},
		"closure":  {"aggregates", "journeys", "projections", "projections/readmodel"},
		"seal":     {"aggregates", "eventlog", "eventstore"},
		"auth":     {"aggregates", "eventlog", "eventstore"},
		"labels":   {"aggregates", "auth", "projections"},

		"projections":           {"aggregates", "eventlog", "eventstore", "projections/readmodel"},
		"projections/readmodel": {"aggregates", "eventstore", "folds", "internal/boltfile"},
		"folds":                 {"aggregates", "eventlog", "eventstore"},

		"aggregates": {},
		"calendar":   {},
		"hmpps":      {"aggregates"},

		"eventstore":            {"aggregates", "internal/esdbserver"},
		"eventstore/storetest":  {"eventstore"},
		"eventlog":              {"aggregates", "eventstore"},
		"eventlog/eventlogtest": {"eventstore"},

		"internal/esdbserver": {"internal/eventdb"},
		"internal/eventdb":    {"internal/boltfile"},
		"internal/boltfile":   {},
		"internal/throttle":   {},
		"internal/progress":   {},
		"internal/journeygen": {"aggregates", "eventlog", "eventstore"},
		"internal/bench":      {"aggregates", "eventstore", "internal/journeygen", "internal/progress", "journeys", "projections", "projections/readmodel"},
		"internal/loadtest":   {"aggregates", "auth", "eventlog", "instance", "internal/journeygen", "internal/throttle", "web/live"},
		"internal/migrate":    {"eventstore"},
		"internal/simulate":   {"aggregates", "auth", "internal/journeygen"},
		"internal/demo":       {"aggregates", "auth", "eventlog", "eventstore", "internal/journeygen", "internal/progress"},
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
		for _, d := range imports[p] {
			if p == "cmd/gateledger" && d != "instance" {
				continue // its operator commands reach everywhere: the arrows would hide the house
			}
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
