package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrNoMessages is ReadMessages' answer to input that holds no message at all.
var ErrNoMessages = errors.New("no messages")

// ErrNotMessages is ReadMessages' answer to well-formed JSON that is not
// messages: a value that is not an object, or a JSON Schema (an object with
// "$schema"), such as the published schemas beside sample messages. An
// import skips such a file; JSON that cannot be read at all stays an error.
var ErrNotMessages = errors.New("not feed messages")

// isSchema reports whether a JSON object is a JSON Schema document.
func isSchema(obj []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(obj, &probe) != nil {
		return false
	}
	_, ok := probe["$schema"]
	return ok
}

// ReadMessages splits a file of HMPPS feed messages into the messages, each as its own
// bytes for Feed.Ingest: one JSON object (an SNS envelope or a bare domain event), JSON
// objects one after another (JSON Lines), or JSON arrays of them, in any mix. Anything
// else is an error naming the message it was found in; nothing is returned then, so an
// import never applies half a file it could not read.
func ReadMessages(r io.Reader) ([][]byte, error) {
	dec := json.NewDecoder(r)
	var out [][]byte
	for n := 1; ; n++ {
		var v json.RawMessage
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", n, err)
		}
		switch t := bytes.TrimLeft(v, " \t\r\n"); {
		case len(t) > 0 && t[0] == '{':
			if isSchema(t) {
				return nil, fmt.Errorf("message %d: %w: a JSON Schema", n, ErrNotMessages)
			}
			out = append(out, bytes.Clone(t))
		case len(t) > 0 && t[0] == '[':
			var list []json.RawMessage
			if err := json.Unmarshal(t, &list); err != nil {
				return nil, fmt.Errorf("message %d: %w", n, err)
			}
			for i, m := range list {
				m = bytes.TrimLeft(m, " \t\r\n")
				if len(m) == 0 || m[0] != '{' {
					return nil, fmt.Errorf("message %d, element %d: %w: not a JSON object", n, i+1, ErrNotMessages)
				}
				out = append(out, bytes.Clone(m))
			}
		default:
			return nil, fmt.Errorf("message %d: %w: not a JSON object or array", n, ErrNotMessages)
		}
	}
	if len(out) == 0 {
		return nil, ErrNoMessages
	}
	return out, nil
}
