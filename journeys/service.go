// Package journeys is the command service of Gateledger: it loads a journey
// from the event store, decides a command with the aggregate, and appends the
// events with the expected revision, so that two writers can never both build
// on the same state.
//
// # Concurrency
//
// Every append names the revision the decision was made on. If another writer
// got there first, the store refuses the append (esdb
// ErrorCodeWrongExpectedVersion); Handle reloads, decides again on the new
// state and retries, up to MaxAttempts times with a short jittered backoff,
// then answers *ConflictError (ErrConflict). A caller's guard
// (CommandMeta.Guard, its authorisation) is asked again on each new state, so
// it always judges the revision the command is decided on. A command that the new state makes
// invalid fails with the aggregate's rule error instead, as it should.
//
// # Idempotency
//
// Every command runs under an idempotency key (CommandMeta.IdempotencyKey; a
// random one when the caller gives none). The key and a digest of the command
// are stored in the metadata of each event the command records, and the event
// ids are derived from the key (eventlog.EventID). Before deciding, Handle
// looks for the key in the journey's stream: if the same command already
// recorded events under it, Handle records nothing and returns the first
// result (Result.Duplicate); if a different command did, it answers
// *KeyReusedError (ErrIdempotencyKeyReused). A command that recorded nothing
// (already reflected by the journey) leaves no trace, so repeating it simply
// decides again and, normally, records nothing again. A retried append whose
// first answer was lost carries the same event ids and expected revision, and
// the store answers it idempotently as well.
//
// Of ours it may import aggregates, eventlog, eventstore and folds.
package journeys

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/folds"
)

// DefaultMaxAttempts bounds how many times Handle decides and appends a
// command that keeps meeting concurrent writers.
const DefaultMaxAttempts = 5

// Service runs journey commands against the event store. The zero value is
// not usable: Store is required. A Service is safe for concurrent use.
type Service struct {
	// Store is the event store (eventstore.Open's Conn, or any eventstore.Store).
	Store eventstore.Store
	// Policy holds the rules' parameters (aggregates.DefaultPolicy).
	Policy aggregates.Policy
	// Clock gives the time commands are decided at and events recorded at;
	// nil means time.Now.
	Clock func() time.Time
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// MaxAttempts overrides DefaultMaxAttempts when positive.
	MaxAttempts int
	// CacheSize bounds the journeys kept between commands (folds.Cache.Stream):
	// zero means DefaultCacheSize, a negative value keeps none.
	CacheSize int

	cacheOnce sync.Once
	cache     *folds.Cache
}

// DefaultCacheSize is how many journeys a Service keeps when CacheSize is zero. A
// journey of a few dozen events takes some tens of kilobytes.
const DefaultCacheSize = 4096

// CommandMeta is who sends a command, from where, and under which key.
type CommandMeta struct {
	// UserID is required: every event says who recorded it.
	UserID       string
	Role         string
	Organisation string
	// Source is required (api, ui, hmpps-feed, system).
	Source        aggregates.Source
	CorrelationID string
	CausationID   string
	// IdempotencyKey makes a retried command record its events once. Empty
	// means a random key: the command is not protected against retries.
	IdempotencyKey string
	// OccurredAt is stored as the events' occurredAt when an event carries
	// none of its own (every aggregate event does today).
	OccurredAt time.Time
	// IfRevision, when set, is the journey revision the caller decided on
	// (an HTTP If-Match; -1 for a journey not yet started). A journey at
	// another revision answers *RevisionMismatchError without retrying.
	IfRevision *int64
	// Guard, when set, is asked on every state the command is about to be
	// decided on (each attempt's fresh read), before IfRevision and Decide: an
	// error refuses the command and is returned unchanged. It is how the
	// caller's authorisation sees exactly the revision the decision is made
	// on, however often the journey moves in between. A command whose
	// idempotency key already recorded events is answered from them without
	// asking it.
	Guard func(aggregates.Journey) error
}

// Result is what a command recorded.
type Result struct {
	NOMS   string
	Stream string
	// Events are the events recorded by the command (by the first call, for a
	// duplicate); empty when the journey already reflected the command.
	Events []eventlog.JourneyEvent
	// Revision is the stream's revision after the command: the revision of
	// its last event, or for a command that recorded nothing the current
	// revision (eventlog.NoRevision for a journey with no events). It is the
	// HTTP ETag.
	Revision int64
	// Position is the $all position of the last event recorded (or, when
	// nothing was recorded, of the journey's last event): a read model that
	// has reached it reflects the command.
	Position esdb.Position
	// Duplicate: the idempotency key had already recorded these events;
	// nothing was appended now.
	Duplicate bool
	// Journey is the journey's state after the command (for a duplicate, the
	// current state).
	Journey aggregates.Journey
	// Attempts is how many times the command was decided.
	Attempts int
}

// Recorded reports whether the command recorded events (now or, for a
// duplicate, the first time).
func (r Result) Recorded() bool { return len(r.Events) > 0 }

func (s *Service) now() time.Time {
	if s.Clock != nil {
		return s.Clock()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Service) client() (eventstore.Store, error) {
	if s.Store == nil {
		return nil, errors.New("journeys: service has no event store")
	}
	return s.Store, nil
}

// Load reads the journey of noms. A journey with no events is the zero
// Journey (with NOMS set) at revision eventlog.NoRevision.
func (s *Service) Load(ctx context.Context, noms string) (aggregates.Journey, int64, error) {
	st, err := s.LoadStream(ctx, noms)
	if err != nil {
		return aggregates.Journey{}, eventlog.NoRevision, err
	}
	return st.Journey, st.Revision(), nil
}

// LoadPerson reads the journey of the person noms names: the journey of noms,
// or, when noms was merged into another prison number, the journey of that
// number (the person's case continues there; aggregates.PrisonNumberMerged).
// Every read of a person goes through it, so a removed number resolves the
// same way in the API, the pages and the inspector's views. st.NOMS says which
// number answered.
func (s *Service) LoadPerson(ctx context.Context, noms string) (eventlog.JourneyStream, error) {
	st, err := s.LoadStream(ctx, noms)
	if err != nil || st.Journey.MergedInto == "" {
		return st, err
	}
	return s.LoadStream(ctx, st.Journey.MergedInto)
}

// LoadStream reads the journey of noms with its events and their metadata. The
// journeys read last are kept, so that the next read of one asks the store only for
// what came after; every read still reaches the store, so a journey written by another
// process or ledger instance is seen as soon as it is written.
func (s *Service) LoadStream(ctx context.Context, noms string) (eventlog.JourneyStream, error) {
	c, err := s.client()
	if err != nil {
		return eventlog.JourneyStream{}, err
	}
	s.cacheOnce.Do(func() {
		size := s.CacheSize
		if size == 0 {
			size = DefaultCacheSize
		}
		s.cache = folds.NewCache(c, size) // none kept when negative
	})
	return s.cache.Stream(ctx, noms)
}

// Handle decides cmd on the journey of noms and records the events. Rule
// errors from the aggregate are returned unchanged (match them with errors.Is
// against the aggregates sentinels); the service's own errors are
// ErrConflict, ErrRevisionMismatch, ErrIdempotencyKeyReused and
// ErrCorrectedEventNotFound; anything else is the store failing.
func (s *Service) Handle(ctx context.Context, noms string, cmd aggregates.Command, meta CommandMeta) (Result, error) {
	client, err := s.client()
	if err != nil {
		return Result{}, err
	}
	if err := checkCommand(noms, cmd, meta); err != nil {
		return Result{}, err
	}
	key := meta.IdempotencyKey
	if key == "" {
		key = "auto:" + uuid.NewString()
	}
	digest, err := CommandDigest(cmd)
	if err != nil {
		return Result{}, err
	}
	envelope := eventlog.Metadata{
		Metadata: aggregates.Metadata{UserID: meta.UserID, Role: meta.Role, Organisation: meta.Organisation,
			OccurredAt: meta.OccurredAt, Source: meta.Source, CorrelationID: meta.CorrelationID,
			CausationID: meta.CausationID, IdempotencyKey: key},
		Command: cmd.CommandName(), CommandDigest: digest,
	}
	maxAttempts := s.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	log := s.log().With("noms", noms, "command", cmd.CommandName(), "key", key)
	var lastConflict error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		st, err := s.LoadStream(ctx, noms)
		if err != nil {
			return Result{}, fmt.Errorf("journeys: %s: %w", cmd.CommandName(), err)
		}
		if res, done, err := s.already(st, key, digest, cmd); done || err != nil {
			res.Attempts = attempt
			return res, err
		}
		if meta.Guard != nil {
			if err := meta.Guard(st.Journey); err != nil {
				return Result{}, err
			}
		}
		if meta.IfRevision != nil && *meta.IfRevision != st.Revision() {
			return Result{}, &RevisionMismatchError{NOMS: noms, Expected: *meta.IfRevision, Current: st.Revision()}
		}
		if c, ok := cmd.(aggregates.CorrectFact); ok {
			if err := checkCorrectionTarget(st, c); err != nil {
				return Result{}, err
			}
		}
		now := s.now()
		events, err := aggregates.Decide(st.Journey, cmd, now, s.Policy)
		if err != nil {
			return Result{}, err
		}
		if len(events) == 0 {
			log.DebugContext(ctx, "command already reflected")
			return Result{NOMS: noms, Stream: st.Stream, Revision: st.Revision(), Position: st.Position(),
				Journey: st.Journey, Attempts: attempt}, nil
		}
		for _, crn := range claimedCRNs(events) {
			claim := envelope
			claim.OccurredAt, claim.RecordedAt = now, now
			if err := s.claimCRN(ctx, crn, noms, claim); err != nil {
				return Result{}, err
			}
		}
		ar, recorded, err := eventlog.AppendJourney(ctx, client, noms, st.Head, key, events, envelope, now)
		if errors.Is(err, eventlog.ErrWrongExpectedRevision) {
			lastConflict = err
			log.DebugContext(ctx, "concurrent write; deciding again", "attempt", attempt)
			if attempt < maxAttempts {
				if err := backoff(ctx, attempt); err != nil {
					return Result{}, err
				}
			}
			continue
		}
		if err != nil {
			return Result{}, fmt.Errorf("journeys: %s: %w", cmd.CommandName(), err)
		}
		j := st.Journey
		for _, ev := range events {
			j = aggregates.Evolve(j, ev)
		}
		log.DebugContext(ctx, "recorded", "events", len(events), "revision", ar.Head.Revision)
		return Result{NOMS: noms, Stream: st.Stream, Events: recorded, Revision: int64(ar.Head.Revision),
			Position: ar.Position, Journey: j, Attempts: attempt}, nil
	}
	return Result{}, &ConflictError{NOMS: noms, Attempts: maxAttempts, Err: lastConflict}
}

// already answers a command whose idempotency key is in the stream.
func (s *Service) already(st eventlog.JourneyStream, key, digest string, cmd aggregates.Command) (Result, bool, error) {
	first := st.WithKey(key)
	if len(first) == 0 {
		return Result{}, false, nil
	}
	m := first[0].Metadata
	if m.CommandDigest != digest {
		return Result{}, true, &KeyReusedError{Key: key, First: m.Command, Command: cmd.CommandName()}
	}
	last := first[len(first)-1]
	return Result{NOMS: st.NOMS, Stream: st.Stream, Events: first, Revision: int64(last.Revision),
		Position: last.Position, Duplicate: true, Journey: st.Journey}, true, nil
}

// checkCommand refuses what the aggregate cannot see: a malformed NOMS, a
// reception for another person than the stream's, and missing metadata.
func checkCommand(noms string, cmd aggregates.Command, meta CommandMeta) error {
	if err := aggregates.ValidateIdentifier("noms", noms); err != nil {
		return fmt.Errorf("journeys: %w", err)
	}
	if cmd == nil {
		return &aggregates.RuleError{Rule: "unknown-command", Err: aggregates.ErrUnknownCommand, Detail: "nil command"}
	}
	if r, ok := cmd.(aggregates.ReceivePrisoner); ok && r.NOMS != noms {
		return fmt.Errorf("journeys: %w", &aggregates.RuleError{Rule: "invalid-value", Err: aggregates.ErrInvalidValue, Field: "NOMS",
			Detail: fmt.Sprintf("reception of %s sent to the journey of %s", r.NOMS, noms)})
	}
	if meta.UserID == "" {
		return fmt.Errorf("journeys: %w", &aggregates.RuleError{Rule: "invalid-value", Err: aggregates.ErrInvalidValue, Field: "UserID", Detail: "who sent the command is required"})
	}
	if !meta.Source.Valid() {
		return fmt.Errorf("journeys: %w", &aggregates.RuleError{Rule: "invalid-value", Err: aggregates.ErrInvalidValue, Field: "Source", Detail: fmt.Sprintf("unknown source %q", meta.Source)})
	}
	return nil
}

// checkCorrectionTarget: the corrected event must be in this journey. A
// malformed id is left to the aggregate, which reports it as such.
func checkCorrectionTarget(st eventlog.JourneyStream, c aggregates.CorrectFact) error {
	id, err := uuid.Parse(c.CorrectsEventID)
	if err != nil {
		return nil
	}
	if _, ok := st.Find(id.String()); !ok {
		return &CorrectionTargetError{NOMS: st.NOMS, EventID: c.CorrectsEventID}
	}
	return nil
}

// CommandDigest is the hex SHA-256 of a command's name, a newline, and its
// JSON encoding: two commands with the same digest say the same thing.
func CommandDigest(cmd aggregates.Command) (string, error) {
	b, err := json.Marshal(cmd)
	if err != nil {
		return "", fmt.Errorf("journeys: digest of %s: %w", cmd.CommandName(), err)
	}
	h := sha256.New()
	h.Write([]byte(cmd.CommandName()))
	h.Write([]byte{'\n'})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// backoff sleeps a few milliseconds, more after each attempt, with jitter so
// that competing writers spread out.
func backoff(ctx context.Context, attempt int) error {
	base := time.Duration(2<<min(attempt, 5)) * time.Millisecond
	d := base/2 + rand.N(base)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
