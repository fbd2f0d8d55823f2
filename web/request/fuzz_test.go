package request

import (
	"errors"
	"net/http"
	"testing"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/journeys"
	"github.com/gateledger/gateledger/web/problem"
)

// FuzzCommandDecoding feeds arbitrary bodies to every command's decoder and
// validator. Whatever the bytes, decoding must not panic, must refuse with a
// 400 problem (malformed-request or validation) naming fields that are
// non-empty, or build a command whose digest can be taken (what the command
// service stores with its idempotency key).
func FuzzCommandDecoding(f *testing.F) {
	seeds := []string{
		`{"kind":"SENTENCE","prison":"MDI","at":"2026-01-01T09:00:00Z"}`,
		`{"dates":{"conditionalReleaseDate":"2030-01-01"},"at":"2026-01-01T09:00:00Z"}`,
		`{"level":2,"at":"2026-01-01T09:00:00Z"}`,
		`{"level":"2"}`, `{"at":"2026-01-01T09:00:00+01:00","x":1}`, `[]`, `null`, `{}{}`, `{"summary":"\u0000"}`,
		`{"actionId":"a1","pathway":"HEALTH","description":"d","due":"2026-02-30","at":"2026-01-01T09:00:00Z"}`,
		`{"correctsEventId":"00000000-0000-0000-0000-000000000000","field":"note","reason":"r","at":"2026-01-01T09:00:00Z"}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		c := commandRoutes[int(route)%len(commandRoutes)]
		b := c.New()
		err := jsonBytes(body, b)
		if err == nil {
			var cmd aggregates.Command
			cmd, err = b.Command(CommandTarget{NOMS: "A1234BC", Pathway: "HEALTH", ActionID: "a1"})
			if err == nil {
				if cmd == nil {
					t.Fatal("no command and no error")
				}
				if _, derr := journeys.CommandDigest(cmd); derr != nil {
					t.Fatalf("digest: %v", derr)
				}
				return
			}
		}
		var pe *problem.Error
		if !errors.As(err, &pe) {
			t.Fatalf("%s: error is not a problem: %v", c.Name, err)
		}
		if pe.Kind.Status != http.StatusBadRequest {
			t.Fatalf("%s: status %d for %q", c.Name, pe.Kind.Status, body)
		}
		for _, e := range pe.Fields {
			if e.Field == "" || e.Message == "" {
				t.Fatalf("%s: empty field error %+v", c.Name, e)
			}
		}
	})
}
