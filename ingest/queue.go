package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/gateledger/gateledger/eventlog"
)

// The dead-letter queue as people work it: read, filter, page, discard.
// Redrive is in redrive.go. Every read folds the dead-letter stream afresh
// (foldDeadLetters), so every ledger instance sharing a store sees the same
// queue; the stream holds failures only, and stays small beside the journeys.

// Errors of the queue.
var (
	// ErrDeadLetterNotFound: no dead letter has this id.
	ErrDeadLetterNotFound = errors.New("no such dead letter")
	// ErrDeadLetterClosed: the dead letter is resolved or discarded, so it
	// cannot be redriven or discarded.
	ErrDeadLetterClosed = errors.New("the dead letter is no longer open")
	// ErrDiscardReason: a discard without a usable reason.
	ErrDiscardReason = errors.New("say why the message is discarded")
	// ErrBadCursor: a page cursor this queue did not give.
	ErrBadCursor = errors.New("not a cursor of the dead-letter list")
)

// MaxDiscardReason bounds a discard's reason, in characters.
const MaxDiscardReason = 500

// Page sizes of DeadLetterQuery.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// DeadLetterQuery filters and pages the queue. Zero fields do not filter.
type DeadLetterQuery struct {
	State  DeadLetterState
	NOMS   string
	Reason string
	// After is the Next of the previous page ("" for the first).
	After string
	// Limit is the page size (DefaultPageSize when 0, at most MaxPageSize).
	Limit int
}

// DeadLetterPage is one page of the queue, in the order the letters were
// first dead-lettered.
type DeadLetterPage struct {
	Letters []DeadLetter
	// Next is the cursor of the next page, "" on the last.
	Next string
	// Total is how many letters match the filter, on every page.
	Total int
	// Counts is how many letters are in each state, whatever the filter.
	Counts map[DeadLetterState]int
}

// Matches reports whether d passes q's filters (not its paging).
func (q DeadLetterQuery) Matches(d DeadLetter) bool {
	return (q.State == "" || d.State == q.State) && (q.NOMS == "" || d.NOMS == q.NOMS) && (q.Reason == "" || d.Reason == q.Reason)
}

// ListDeadLetters answers one page of the queue.
func (f *Feed) ListDeadLetters(ctx context.Context, q DeadLetterQuery) (DeadLetterPage, error) {
	var after int64 = -1
	if q.After != "" {
		n, err := strconv.ParseUint(q.After, 10, 63)
		if err != nil {
			return DeadLetterPage{}, fmt.Errorf("%w: %q", ErrBadCursor, q.After)
		}
		after = int64(n)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	letters, _, err := f.readDeadLetters(ctx)
	if err != nil {
		return DeadLetterPage{}, err
	}
	page := DeadLetterPage{Letters: []DeadLetter{}, Counts: map[DeadLetterState]int{}}
	for _, l := range letters {
		page.Counts[l.State]++
		if !q.Matches(l) {
			continue
		}
		page.Total++
		if int64(l.Revision) <= after {
			continue
		}
		if len(page.Letters) == limit {
			if page.Next == "" {
				page.Next = strconv.FormatUint(page.Letters[limit-1].Revision, 10)
			}
			continue
		}
		page.Letters = append(page.Letters, l)
	}
	return page, nil
}

// DeadLetter answers one letter by id.
func (f *Feed) DeadLetter(ctx context.Context, id uuid.UUID) (DeadLetter, error) {
	letters, _, err := f.readDeadLetters(ctx)
	if err != nil {
		return DeadLetter{}, err
	}
	return find(letters, id)
}

func find(letters []DeadLetter, id uuid.UUID) (DeadLetter, error) {
	for _, l := range letters {
		if l.ID == id {
			return l, nil
		}
	}
	return DeadLetter{}, fmt.Errorf("%w: %s", ErrDeadLetterNotFound, id)
}

// CheckDiscardReason returns the reason as it will be recorded (trimmed), or
// an error matching ErrDiscardReason that says what is wrong with it, in words
// for the person who wrote it.
func CheckDiscardReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return "", fmt.Errorf("%w: enter why this message will never be applied", ErrDiscardReason)
	case !utf8.ValidString(reason):
		return "", fmt.Errorf("%w: the reason is not readable text", ErrDiscardReason)
	case utf8.RuneCountInString(reason) > MaxDiscardReason:
		return "", fmt.Errorf("%w: the reason must be %d characters or fewer", ErrDiscardReason, MaxDiscardReason)
	}
	for _, r := range reason {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return "", fmt.Errorf("%w: the reason contains a control character", ErrDiscardReason)
		}
	}
	return reason, nil
}

// Discard records that by decided the open dead letter id is never to be
// applied, and why (required; see CheckDiscardReason). Discarding a letter
// already discarded answers it unchanged; one resolved is ErrDeadLetterClosed.
func (f *Feed) Discard(ctx context.Context, id uuid.UUID, reason string, by Actor) (DeadLetter, error) {
	reason, err := CheckDiscardReason(reason)
	if err != nil {
		return DeadLetter{}, err
	}
	if !by.person() {
		return DeadLetter{}, errors.New("ingest: a discard needs the person who decided it")
	}
	at := f.now().UTC()
	_, err = f.appendChained(ctx, func(letters []DeadLetter) (eventlog.Proposed, string, bool, error) {
		l, err := find(letters, id)
		if err != nil {
			return eventlog.Proposed{}, "", false, err
		}
		switch l.State {
		case StateDiscarded:
			return eventlog.Proposed{}, "", false, nil
		case StateResolved:
			return eventlog.Proposed{}, "", false, fmt.Errorf("%w: it has been applied already", ErrDeadLetterClosed)
		}
		b, err := json.Marshal(DeadLetterDiscarded{DeadLetterID: l.ID.String(), Key: l.Key, Reason: reason, By: by.ID, ByName: by.Name,
			ByRole: by.Role, DiscardedAt: at})
		if err != nil {
			return eventlog.Proposed{}, "", false, err
		}
		key := "discarded:" + l.ID.String()
		return eventlog.Proposed{Type: TypeDeadLetterDiscarded, Data: b, Metadata: f.metadata(by, key, l.Key, l.MessageID, at, "DiscardDeadLetter")}, key, true, nil
	}, nil)
	if err != nil {
		return DeadLetter{}, err
	}
	d, err := f.DeadLetter(ctx, id)
	if err == nil {
		f.log().InfoContext(ctx, "dead letter discarded", "id", id, "key", d.Key, "noms", d.NOMS, "by", by.ID)
	}
	return d, err
}
