package web

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gateledger/gateledger/aggregates"
)

// feedCorpus is hmpps/testdata/corpus.json: HMPPS feed messages with the
// outcome each must have when delivered in order, and every person's journey
// once the dead letters are redriven.
type feedCorpus struct {
	Messages []struct {
		Name   string          `json:"name"`
		Body   json.RawMessage `json:"body"`
		Expect struct {
			Disposition string   `json:"disposition"`
			Reason      string   `json:"reason"`
			Rule        string   `json:"rule"`
			Contains    string   `json:"contains"`
			Commands    []string `json:"commands"`
			Events      *int     `json:"events"`
			Duplicate   bool     `json:"duplicate"`
			// Settles: dead-lettered when delivered in order, and applied
			// once the dead letters are redriven.
			Settles bool `json:"settles"`
		} `json:"expect"`
	} `json:"messages"`
	AfterRedrive map[string]struct {
		Custody       string   `json:"custody"`
		Prison        string   `json:"prison"`
		ReleaseKind   string   `json:"releaseKind"`
		ReceptionKind string   `json:"receptionKind"`
		DetainedIn    string   `json:"detainedIn"`
		Away          string   `json:"away"`
		CRN           string   `json:"crn"`
		Closed        bool     `json:"closed"`
		MergedInto    string   `json:"mergedInto"`
		MergedFrom    []string `json:"mergedFrom"`
	} `json:"afterRedrive"`
}

func loadFeedCorpus(t *testing.T) feedCorpus {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "hmpps", "testdata", "corpus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c feedCorpus
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Messages) < 40 {
		t.Fatalf("the corpus has %d messages; it must hold at least 40", len(c.Messages))
	}
	return c
}

// feedAnswer is what the feed endpoint answered for one message.
type feedAnswer struct {
	Disposition string `json:"disposition"`
	Reason      string `json:"reason"`
	Error       string `json:"error"`
	Commands    []struct {
		Command   string `json:"command"`
		Events    int    `json:"events"`
		Duplicate bool   `json:"duplicate"`
	} `json:"commands"`
}

func (w *world) deliver(t *testing.T, body []byte) feedAnswer {
	t.Helper()
	a := w.do(req{method: "POST", path: "/v1/feeds/hmpps", as: "feed", body: body})
	if a.status != 200 && a.status != 202 {
		t.Fatalf("feed answered %d: %s", a.status, a.body)
	}
	var out feedAnswer
	if err := json.Unmarshal(a.body, &out); err != nil {
		t.Fatal(err)
	}
	if (a.status == 202) != (out.Disposition == "dead-letter") {
		t.Fatalf("status %d for disposition %s", a.status, out.Disposition)
	}
	return out
}

// redriveAll offers the dead letters again until a pass resolves nothing.
func (w *world) redriveAll(t *testing.T) {
	t.Helper()
	for range 10 {
		rep, err := w.cfg.Feed.Redrive(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Resolved) == 0 {
			return
		}
	}
}

// journeyOf reads a person's journey through the API as an inspector (a
// merged number answers the journey it was merged into, so the raw store is
// read for that).
func (w *world) journeyOf(t *testing.T, noms string) aggregates.Journey {
	t.Helper()
	j, _, err := w.svc.Load(context.Background(), noms)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// storeHead is the number of events in the journeys of the corpus.
func (w *world) storeHead(t *testing.T, people []string) int {
	n := 0
	for _, noms := range people {
		n += w.journeyOf(t, noms).Version
	}
	return n
}

func TestFeedCorpusThroughTheAPI(t *testing.T) {
	c := loadFeedCorpus(t)
	w := newWorld(t, nil)
	for _, m := range c.Messages {
		t.Run(m.Name, func(t *testing.T) {
			got := w.deliver(t, m.Body)
			e := m.Expect
			if got.Disposition != e.Disposition {
				t.Fatalf("disposition %s (%s: %s), want %s", got.Disposition, got.Reason, got.Error, e.Disposition)
			}
			if e.Reason != "" && got.Reason != e.Reason {
				t.Errorf("reason %q (%s), want %q", got.Reason, got.Error, e.Reason)
			}
			if e.Rule != "" && !strings.HasPrefix(errorRule(got.Error), e.Rule) {
				t.Errorf("error %q does not name rule %s", got.Error, e.Rule)
			}
			if e.Contains != "" && !strings.Contains(got.Error, e.Contains) {
				t.Errorf("error %q does not name %s", got.Error, e.Contains)
			}
			var names []string
			events, dup := 0, len(got.Commands) > 0
			for _, c := range got.Commands {
				names = append(names, c.Command)
				events += c.Events
				dup = dup && c.Duplicate
			}
			if e.Commands != nil && !slices.Equal(names, e.Commands) {
				t.Errorf("commands %v, want %v", names, e.Commands)
			}
			if e.Events != nil && events != *e.Events {
				t.Errorf("%d events, want %d", events, *e.Events)
			}
			if e.Duplicate != dup && e.Disposition == "apply" {
				t.Errorf("duplicate %v, want %v", dup, e.Duplicate)
			}
		})
	}
	w.redriveAll(t)
	people := slices.Sorted(func(yield func(string) bool) {
		for n := range c.AfterRedrive {
			if !yield(n) {
				return
			}
		}
	})
	for _, noms := range people {
		want := c.AfterRedrive[noms]
		t.Run("after redrive/"+noms, func(t *testing.T) {
			j := w.journeyOf(t, noms)
			check := func(what, got, want string) {
				if want != "" && got != want {
					t.Errorf("%s %q, want %q", what, got, want)
				}
			}
			check("custody", string(j.Custody), want.Custody)
			check("prison", j.Prison, want.Prison)
			check("release kind", string(j.ReleaseKind), want.ReleaseKind)
			check("reception kind", string(j.ReceptionKind), want.ReceptionKind)
			check("detained in", string(j.DetainedIn), want.DetainedIn)
			check("away", string(j.Away), want.Away)
			check("CRN", j.CRN, want.CRN)
			check("merged into", j.MergedInto, want.MergedInto)
			if j.Closed != want.Closed {
				t.Errorf("closed %v, want %v", j.Closed, want.Closed)
			}
			if want.MergedFrom != nil && !slices.Equal(j.MergedFrom, want.MergedFrom) {
				t.Errorf("merged from %v, want %v", j.MergedFrom, want.MergedFrom)
			}
		})
	}

	// A removed number resolves to the person's journey through the API,
	// and its trail holds both histories.
	a := w.do(req{method: "GET", path: "/v1/journeys/G1016AA", as: "inspector"}).ok(t, 200)
	if got := a.json(t)["noms"]; got != "G1017AA" {
		t.Errorf("removed number answered %v, want the journey of G1017AA", got)
	}
	trail := w.do(req{method: "GET", path: "/v1/journeys/G1017AA/trail", as: "inspector", header: map[string]string{HeaderMinPosition: ""}}).ok(t, 200)
	if !strings.Contains(string(trail.body), "journey-G1016AA") || !strings.Contains(string(trail.body), "journey-G1017AA") {
		t.Errorf("trail of the remaining number lacks one of the histories: %.300s", trail.body)
	}

	// Property: the corpus delivered a second time records nothing new.
	before := w.storeHead(t, people)
	for _, m := range c.Messages {
		w.deliver(t, m.Body)
	}
	w.redriveAll(t)
	if after := w.storeHead(t, people); after != before {
		t.Fatalf("a second delivery recorded %d more events", after-before)
	}
}

// errorRule is the rule slug a dead-letter error names ("Command: rule: ...").
func errorRule(msg string) string {
	if _, rest, ok := strings.Cut(msg, ": "); ok {
		return rest
	}
	return msg
}

// Property: the facts of the corpus delivered in any order and then redriven
// leave every person's journey where delivering them in order does. The
// messages that stay dead letters in order are left out: each contradicts a
// fact of its person (a reception after a death, a release from a prison that
// does not hold the person, a release from before the journey), so which of
// the two is believed depends on which arrives first until a person decides.
// A merged number is compared by where it points: its own stream is history.
func TestFeedCorpusInAnyOrderConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("delivers the corpus three more times")
	}
	c := loadFeedCorpus(t)
	state := func(w *world, noms string) string {
		j := w.journeyOf(t, noms)
		if j.MergedInto != "" {
			return "merged into " + j.MergedInto
		}
		return strings.Join([]string{string(j.Custody), j.Prison, string(j.Away), string(j.ReleaseKind), string(j.DetainedIn),
			j.CRN, j.MergedInto, strings.Join(j.MergedFrom, "+"), map[bool]string{true: "closed"}[j.Closed]}, "|")
	}
	var facts []json.RawMessage
	for _, m := range c.Messages {
		if m.Expect.Disposition != "dead-letter" || m.Expect.Settles {
			facts = append(facts, m.Body)
		}
	}
	inOrder := newWorld(t, nil)
	for _, m := range facts {
		inOrder.deliver(t, m)
	}
	inOrder.redriveAll(t)
	for seed := range uint64(2) {
		t.Run("seed "+string(rune('0'+seed)), func(t *testing.T) {
			w := newWorld(t, nil)
			rng := rand.New(rand.NewPCG(seed, 7))
			for _, i := range rng.Perm(len(facts)) {
				w.deliver(t, facts[i])
			}
			w.redriveAll(t)
			for noms := range c.AfterRedrive {
				if got, want := state(w, noms), state(inOrder, noms); got != want {
					t.Errorf("%s: shuffled %s, in order %s", noms, got, want)
				}
			}
		})
	}
}
