package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gateledger/gateledger/ingest"
	"github.com/gateledger/gateledger/internal/demo"
	"github.com/gateledger/gateledger/internal/progress"
)

// importAttempts bounds the deliveries of one message that the ledger asks to be
// retried (503 with Retry-After, 429).
const importAttempts = 5

// importCmd delivers HMPPS feed messages from files to a running ledger's feed endpoint,
// one at a time in file order (a person's custody movements must arrive in order), as
// the feed itself would. Every file is read before anything is sent, so a file that
// cannot be read sends nothing.
func importCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var serverURL, token, dataDir, signIns, from string
	var lc logConfig
	f := newFlags("import", stderr)
	f.string(&from, "from", "IMPORT_FROM", "", "a file of HMPPS feed messages (JSON objects, JSON Lines or arrays; SNS envelopes or bare domain events), a directory of *.json and *.jsonl files, or - for standard input")
	f.string(&serverURL, "url", "URL", "http://127.0.0.1:8080", "base URL of the running ledger")
	f.string(&token, "token", "TOKEN", "", "a feed principal's bearer token; empty reads the feed demo sign-in")
	f.string(&dataDir, "data", "DATA_DIR", "./data", "data directory whose demo-sign-ins.json holds the demo sign-ins (make run writes it)")
	f.string(&signIns, "sign-ins", "SIGN_INS", "", "demo sign-ins file to read the feed token from; empty means <--data>/demo-sign-ins.json")
	lc.register(f)
	if err := f.parse(args); err != nil {
		return err
	}
	if _, err := lc.logger(stderr); err != nil {
		return err
	}
	if from == "" {
		return errors.New("--from: name the file or directory of messages to import")
	}
	msgs, err := readImport(from, stderr)
	if err != nil {
		return err
	}
	if token == "" {
		if token, err = feedSignIn(dataDir, signIns); err != nil {
			return err
		}
	}
	endpoint := strings.TrimSuffix(serverURL, "/") + "/v1/feeds/hmpps"
	bar := progress.New(stderr, "import", float64(len(msgs)), "messages")
	var sum importSummary
	client := &http.Client{Timeout: time.Minute}
	for i, m := range msgs {
		ans, err := deliver(ctx, client, endpoint, token, m.body)
		if err != nil {
			bar.Finish()
			fmt.Fprint(stdout, sum)
			return fmt.Errorf("message %d of %d (%s): %w (the messages before it were delivered; importing again is safe: the ledger records each message once)", i+1, len(msgs), m.source, err)
		}
		sum.add(ans)
		fmt.Fprintf(stdout, "%s: %s\n", m.source, ans)
		bar.Update(float64(i+1), float64(i+1))
	}
	bar.Finish()
	fmt.Fprint(stdout, sum)
	return nil
}

// feedAnswer is what the feed endpoint answered about one message.
type feedAnswer struct {
	Disposition    string `json:"disposition"`
	AlreadyApplied bool   `json:"alreadyApplied"`
	EventType      string `json:"eventType"`
	NOMS           string `json:"noms"`
	Reason         string `json:"reason"`
	Error          string `json:"error"`
	DeadLetter     *struct {
		AlreadyOpen bool `json:"alreadyOpen"`
		Attempts    int  `json:"attempts"`
	} `json:"deadLetter"`
}

// String says what happened to the message, in words.
func (a feedAnswer) String() string {
	who := ""
	if a.NOMS != "" {
		who = " (" + a.NOMS + ")"
	}
	switch {
	case a.Disposition == "apply" && a.AlreadyApplied:
		return "already applied" + who
	case a.Disposition == "apply":
		return "applied" + who
	case a.Disposition == "ignore":
		return "ignored: " + a.Error
	}
	s := "dead-lettered" + who + ": " + ingest.ReasonLabel(a.Reason) + ": " + a.Error
	if d := a.DeadLetter; d != nil && d.AlreadyOpen {
		s += fmt.Sprintf(" (already waiting in the dead-letter queue; %d attempts)", d.Attempts)
	}
	return s
}

// importSummary counts what the ledger did with the messages.
type importSummary struct{ applied, already, ignored, deadLettered int }

func (s *importSummary) add(a feedAnswer) {
	switch {
	case a.Disposition == "apply" && a.AlreadyApplied:
		s.already++
	case a.Disposition == "apply":
		s.applied++
	case a.Disposition == "ignore":
		s.ignored++
	default:
		s.deadLettered++
	}
}

func (s importSummary) String() string {
	return fmt.Sprintf("imported %d messages: %d applied, %d already applied, %d ignored, %d dead-lettered\n",
		s.applied+s.already+s.ignored+s.deadLettered, s.applied, s.already, s.ignored, s.deadLettered)
}

// importMsg is one message to deliver and where it came from, for people.
type importMsg struct {
	source string
	body   []byte
}

// readImport reads every message from a file, a directory's *.json and *.jsonl files in
// name order, or standard input ("-"). Files that are not messages are skipped with a
// warning on warn: *.schema.json, and well-formed JSON that is not objects or is a JSON
// Schema (ingest.ErrNotMessages). A file that cannot be read as JSON is an error, and
// nothing is sent.
func readImport(from string, warn io.Writer) ([]importMsg, error) {
	label := func(name string, msgs [][]byte) []importMsg {
		out := make([]importMsg, 0, len(msgs))
		for i, m := range msgs {
			src := name
			if len(msgs) > 1 {
				src = fmt.Sprintf("%s #%d", name, i+1)
			}
			out = append(out, importMsg{source: src, body: m})
		}
		return out
	}
	if from == "-" {
		msgs, err := ingest.ReadMessages(os.Stdin)
		if err != nil {
			return nil, err
		}
		return label("stdin", msgs), nil
	}
	st, err := os.Stat(from)
	if err != nil {
		return nil, err
	}
	files := []string{from}
	if st.IsDir() {
		files = nil
		entries, err := os.ReadDir(from)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if n := e.Name(); !e.IsDir() && (strings.HasSuffix(n, ".json") || strings.HasSuffix(n, ".jsonl")) {
				files = append(files, filepath.Join(from, n))
			}
		}
		slices.Sort(files)
		if len(files) == 0 {
			return nil, fmt.Errorf("%s holds no *.json or *.jsonl files", from)
		}
	}
	var all []importMsg
	for _, name := range files {
		if strings.HasSuffix(name, ".schema.json") {
			fmt.Fprintf(warn, "skipping %s: a JSON Schema, not messages\n", name)
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		msgs, err := ingest.ReadMessages(bytes.NewReader(b))
		if errors.Is(err, ingest.ErrNotMessages) || errors.Is(err, ingest.ErrNoMessages) {
			fmt.Fprintf(warn, "skipping %s: %v\n", name, err)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		all = append(all, label(filepath.Base(name), msgs)...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%s: %w to import", from, ingest.ErrNoMessages)
	}
	return all, nil
}

// feedSignIn reads the feed principal's token from the demo sign-ins.
func feedSignIn(dataDir, signIns string) (string, error) { return demoSignIn(dataDir, signIns, "feed") }

// demoSignIn reads the token of role from the demo sign-ins that serve
// writes (signIns, or <dataDir>/demo-sign-ins.json), for the commands that
// talk to a running demo ledger without a --token (import, backup).
func demoSignIn(dataDir, signIns, role string) (string, error) {
	if signIns == "" {
		signIns = filepath.Join(dataDir, "demo-sign-ins.json")
	}
	b, err := os.ReadFile(signIns)
	if err != nil {
		return "", fmt.Errorf("no --token, and the demo sign-ins cannot be read (start the ledger with make run first): %w", err)
	}
	var list []demo.SignIn
	if err := json.Unmarshal(b, &list); err != nil {
		return "", fmt.Errorf("%s: %w", signIns, err)
	}
	for _, s := range list {
		if string(s.Role) == role {
			return s.Token, nil
		}
	}
	return "", fmt.Errorf("%s holds no %s sign-in; pass --token", signIns, role)
}

// deliver posts one message and returns the ledger's answer about it, retrying what the
// ledger asks to be retried.
func deliver(ctx context.Context, client *http.Client, endpoint, token string, msg []byte) (feedAnswer, error) {
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(msg))
		if err != nil {
			return feedAnswer{}, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return feedAnswer{}, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
		if err != nil {
			return feedAnswer{}, err
		}
		switch resp.StatusCode {
		case http.StatusOK, http.StatusAccepted:
			var out feedAnswer
			if err := json.Unmarshal(body, &out); err != nil || out.Disposition == "" {
				return feedAnswer{}, fmt.Errorf("the ledger answered %d without a disposition: %.200s", resp.StatusCode, body)
			}
			return out, nil
		case http.StatusServiceUnavailable, http.StatusTooManyRequests:
			if attempt == importAttempts {
				return feedAnswer{}, fmt.Errorf("the ledger answered %d %d times: %.200s", resp.StatusCode, attempt, body)
			}
			wait := time.Second
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
				wait = time.Duration(s) * time.Second
			}
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return feedAnswer{}, ctx.Err()
			}
		default:
			return feedAnswer{}, fmt.Errorf("the ledger answered %d: %.300s", resp.StatusCode, body)
		}
	}
}
