package inspect

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/labels"
	"github.com/gateledger/gateledger/projections"
)

// Detail is one named value of an event, as the timeline shows it.
type Detail = labels.Field

// TimelineItem is one event of a person's history: what happened, who
// recorded it for which organisation, when it happened and when it was
// recorded, where it came from, and its place in the hash chain.
type TimelineItem struct {
	Position uint64
	Revision uint64
	// Type is the stored event type; Title says it in words.
	Type  string
	Title string
	// OccurredAt and RecordedAt are in the Inspector's location.
	OccurredAt time.Time
	RecordedAt time.Time
	// Late: recorded more than a day after it happened.
	Late   bool
	UserID string
	// Who is the name of the person who recorded it (Config.Names), or
	// their id when no name is known.
	Who          string
	Role         string
	Organisation string
	Source       string
	Command      string
	Hash         string
	// Details are the event's own values (prison, kind, dates, reasons).
	Details []Detail
	// EnvelopeError says why the event's metadata could not be read.
	EnvelopeError string
}

// PersonSummary is what the ledger holds about who the person is and where
// their journey stands now.
type PersonSummary struct {
	NOMS        string
	CRN         string
	PNC         string
	Custody     string
	Prison      string
	Responsible string
	ReleaseArea string
	Closed      bool
	// Revision is the stream's last revision; Events how many it holds.
	Revision int64
	Events   int
}

// TimelineView is a person and their whole history, newest first (the
// order of the MoJ timeline).
type TimelineView struct {
	Person PersonSummary
	Items  []TimelineItem
}

// lateAfter is how long after it happened an event may be recorded before
// the timeline calls it late.
const lateAfter = 24 * time.Hour

// Timeline reads the person's history: the audit trail for who, when and
// where from, and the events in the store for what. The read is recorded.
func (i *Inspector) Timeline(ctx context.Context, p auth.Principal, noms string) (TimelineView, error) {
	return read(ctx, i, p, noms, accessTrail, projections.AuditName, func(st eventlog.JourneyStream) (TimelineView, error) {
		return i.timelineOf(st, noms)
	})
}

// timelineOf builds the timeline of the person whose journey st is.
func (i *Inspector) timelineOf(st eventlog.JourneyStream, noms string) (TimelineView, error) {
	entries, err := projections.Trail(i.cfg.Runner, noms)
	if err != nil {
		return TimelineView{}, fmt.Errorf("inspect: trail of %s: %w", noms, err)
	}
	byRev := make(map[uint64]aggregates.Event, len(st.Events))
	for _, e := range st.Events {
		byRev[e.Revision] = e.Event
	}
	j := st.Journey
	v := TimelineView{Person: PersonSummary{NOMS: noms, CRN: j.CRN, PNC: j.PNC, Custody: string(j.Custody), Prison: j.Prison,
		Responsible: string(j.Responsible()), ReleaseArea: j.ReleaseArea, Closed: j.Closed, Revision: st.Revision(),
		Events: len(st.Events)}, Items: make([]TimelineItem, 0, len(entries))}
	loc := i.cfg.Location
	for _, e := range slices.Backward(entries) {
		it := TimelineItem{Position: e.Position, Revision: e.Revision, Type: e.Type, Title: labels.EventType(e.Type),
			OccurredAt: inLoc(e.OccurredAt, loc), RecordedAt: inLoc(e.RecordedAt, loc), UserID: e.UserID, Who: i.who(e.UserID), Role: e.Role,
			Organisation: e.Organisation, Source: string(e.Source), Command: e.Command, Hash: e.Hash, EnvelopeError: e.EnvelopeError}
		if it.RecordedAt.IsZero() {
			it.RecordedAt = inLoc(e.StoredAt, loc)
		}
		it.Late = !e.OccurredAt.IsZero() && it.RecordedAt.Sub(e.OccurredAt) > lateAfter
		if ev, ok := byRev[e.Revision]; ok {
			it.Details = Details(ev)
		}
		v.Items = append(v.Items, it)
	}
	return v, nil
}

func inLoc(t time.Time, loc *time.Location) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(loc)
}

// Words says a Go-style name in words: "PrisonerReceived" is "Prisoner
// received" (labels.Name).
func Words(name string) string { return labels.Name(name) }

// Details lists an event's own values, labelled (labels.Fields).
func Details(ev aggregates.Event) []Detail { return labels.Fields(ev) }

// FormatDate is how the pages show a date: "30 September 2024".
func FormatDate(d aggregates.Date) string { return labels.Date(d) }
