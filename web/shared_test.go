package web

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestDecodeCommand(t *testing.T) {
	at := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	for _, tc := range []struct {
		name, command string
		target        CommandTarget
		body          string
		fields        []string // fields at fault, in order; nil: decodes
	}{
		{name: "reception", command: "ReceivePrisoner", target: CommandTarget{NOMS: "A1234BC"},
			body: `{"kind":"SENTENCE","prison":"MDI","at":"` + at + `"}`},
		{name: "bad reception", command: "ReceivePrisoner", target: CommandTarget{NOMS: "A1234BC"},
			body: `{"kind":"NOPE","prison":"","at":"yesterday"}`, fields: []string{"kind", "prison", "at"}},
		{name: "bad person", command: "CompleteScreening", target: CommandTarget{NOMS: "nobody"},
			body: `{"at":"` + at + `"}`, fields: []string{"noms"}},
		{name: "unknown field", command: "CompleteScreening", target: CommandTarget{NOMS: "A1234BC"},
			body: `{"at":"` + at + `","extra":1}`, fields: []string{"extra"}},
		{name: "pathway", command: "IdentifyNeed", target: CommandTarget{NOMS: "A1234BC", Pathway: "HEALTH"},
			body: `{"description":"GP","at":"` + at + `"}`},
		{name: "bad pathway", command: "IdentifyNeed", target: CommandTarget{NOMS: "A1234BC", Pathway: "NOPE"},
			body: `{"description":"GP","at":"` + at + `"}`, fields: []string{"pathway"}},
		{name: "action", command: "CompleteAction", target: CommandTarget{NOMS: "A1234BC", ActionID: "a1"},
			body: `{"outcome":"done","at":"` + at + `"}`},
		{name: "release dates", command: "SetReleaseDates", target: CommandTarget{NOMS: "A1234BC"},
			body: `{"dates":{"confirmedReleaseDate":"2030-02-31"},"at":"` + at + `"}`, fields: []string{"dates.confirmedReleaseDate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd, err := DecodeCommand(tc.command, tc.target, []byte(tc.body))
			if tc.fields == nil {
				if err != nil {
					t.Fatal(err)
				}
				if cmd == nil {
					t.Fatal("no command")
				}
				return
			}
			status, _, _, fields := FieldErrors(err)
			if status != http.StatusUnprocessableEntity && status != http.StatusBadRequest {
				t.Errorf("status %d", status)
			}
			var got []string
			for _, f := range fields {
				got = append(got, f.Field)
			}
			if len(got) != len(tc.fields) {
				t.Fatalf("fields %v, want %v", got, tc.fields)
			}
			for i := range got {
				if got[i] != tc.fields[i] {
					t.Fatalf("fields %v, want %v", got, tc.fields)
				}
			}
		})
	}
	if _, err := DecodeCommand("Nothing", CommandTarget{NOMS: "A1234BC"}, []byte(`{}`)); !errors.Is(err, ErrUnknownCommand) {
		t.Errorf("unknown command: %v", err)
	}
}
