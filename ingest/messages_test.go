package ingest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gateledger/gateledger/ingest"
)

func TestReadMessages(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr string
	}{
		{name: "one object", in: `{"eventType":"a"}`, want: []string{`{"eventType":"a"}`}},
		{name: "JSON Lines", in: "{\"n\":1}\n{\"n\":2}\r\n\n{\"n\":3}\n", want: []string{`{"n":1}`, `{"n":2}`, `{"n":3}`}},
		{name: "an array", in: ` [ {"n":1}, {"n":2} ] `, want: []string{`{"n":1}`, `{"n":2}`}},
		{name: "objects and arrays mixed", in: `{"n":1}[{"n":2}]{"n":3}`, want: []string{`{"n":1}`, `{"n":2}`, `{"n":3}`}},
		{name: "empty", in: " \n", wantErr: "no messages"},
		{name: "an empty array", in: "[]", wantErr: "no messages"},
		{name: "a number", in: `{"n":1} 7`, wantErr: "message 2: not feed messages: not a JSON object or array"},
		{name: "an array of strings", in: `[{"n":1},"x"]`, wantErr: "message 1, element 2: not feed messages: not a JSON object"},
		{name: "a JSON Schema", in: `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object"}`, wantErr: "not feed messages: a JSON Schema"},
		{name: "cut short", in: `{"n":1}` + "\n" + `{"n":`, wantErr: "message 2:"},
		{name: "not JSON", in: `eventType: a`, wantErr: "message 1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ingest.ReadMessages(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || got != nil {
					t.Fatalf("got %q, %v; want an error with %q and nothing read", got, err, tt.wantErr)
				}
				if tt.wantErr == "no messages" && !errors.Is(err, ingest.ErrNoMessages) {
					t.Fatalf("%v does not match ErrNoMessages", err)
				}
				if strings.Contains(tt.wantErr, "not feed messages") != errors.Is(err, ingest.ErrNotMessages) {
					t.Fatalf("%v: ErrNotMessages is %v", err, errors.Is(err, ingest.ErrNotMessages))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d messages %q, want %q", len(got), got, tt.want)
			}
			for i := range got {
				if string(got[i]) != tt.want[i] {
					t.Errorf("message %d = %s, want %s", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// FuzzReadMessages: whatever the input, ReadMessages either fails or returns messages
// that are each one JSON object.
func FuzzReadMessages(f *testing.F) {
	for _, s := range []string{`{"a":1}`, "{}\n{}", `[{},{}]`, `[1]`, ``, `{"a":[{"b":2}]}`, `{"a":"\u00e9"}[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		msgs, err := ingest.ReadMessages(bytes.NewReader(in))
		if err != nil {
			if msgs != nil {
				t.Fatal("messages returned with an error")
			}
			return
		}
		for _, m := range msgs {
			var obj map[string]json.RawMessage
			if json.Unmarshal(m, &obj) != nil {
				t.Fatalf("message %q is not a JSON object", m)
			}
		}
	})
}
