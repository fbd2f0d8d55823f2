package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/internal/journeygen"
	"github.com/gateledger/gateledger/projections"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// NationalCases is the size of the organisation whose caseload page is measured: one NPS
// region holds tens of thousands of cases.
const NationalCases = 50_000

// nationalCaseload measures one page (the default size, closed cases hidden, in prison
// number order) of an organisation holding NationalCases cases. The generated journeys
// of RunProjections spread people over many organisations, so this writes a store of
// its own: NationalCases people received at one prison with release dates and a release
// area (the handover that starts is not accepted, so the prison stays responsible and
// holds every row), and waits for the caseload read model to hold them. It answers the
// organisation, its rows and the p99 in ms.
func nationalCaseload(ctx context.Context, cfg ProjectionConfig, now time.Time) (string, int, float64, error) {
	dataDir := filepath.Join(cfg.Dir, "national")
	store, err := eventstore.Open(ctx, eventstore.Config{DataDir: dataDir, Logger: cfg.Logger})
	if err != nil {
		return "", 0, 0, err
	}
	defer store.Close(context.WithoutCancel(ctx))
	fmt.Fprintf(cfg.Progress, "bench: write a caseload of %d people\n", NationalCases)
	prison := journeygen.Actor{UserID: "bench", Role: "prison", Organisation: "MDI", Source: aggregates.SourceAPI}
	people := make([]journeygen.Journey, 0, NationalCases)
	for i := range NationalCases {
		noms := journeygen.NOMS(i)
		at := now.Add(-90*24*time.Hour + time.Duration(i)*time.Second)
		j := journeygen.Journey{NOMS: noms}
		for k, c := range []aggregates.Command{
			aggregates.ReceivePrisoner{NOMS: noms, Kind: aggregates.ReceptionSentence, Prison: "MDI", At: at},
			aggregates.SetReleaseDates{Dates: aggregates.ReleaseDates{ConditionalRelease: aggregates.DateOf(now.Add(time.Duration(30+i%300) * 24 * time.Hour))}, At: at.Add(time.Hour)},
			aggregates.ChangeReleaseArea{Area: "C05", At: at.Add(2 * time.Hour)},
		} {
			stepAt := at.Add(time.Duration(k) * time.Hour)
			evs, err := aggregates.Decide(j.Final, c, stepAt.Add(time.Minute), cfg.Policy)
			if err != nil {
				return "", 0, 0, fmt.Errorf("national caseload, %s for %s: %w", c.CommandName(), noms, err)
			}
			for _, ev := range evs {
				aggregates.Fold(&j.Final, ev)
			}
			j.Steps = append(j.Steps, journeygen.Step{Command: c, Actor: prison, At: stepAt, Events: evs})
		}
		people = append(people, j)
	}
	org := string(people[0].Final.Responsible())
	w := &journeygen.Writer{Client: store.Client, Concurrency: 32, StepsPerAppend: 3}
	if err := w.Write(ctx, people); err != nil {
		return "", 0, 0, err
	}
	r, err := readmodel.Open(filepath.Join(dataDir, "projections.db"), store.Client, cfg.Logger, projections.All(cfg.Policy)...)
	if err != nil {
		return "", 0, 0, err
	}
	defer r.Close()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	defer func() { stop(); <-done }()
	rows := 0
	for deadline := time.Now().Add(30 * time.Minute); rows < NationalCases; time.Sleep(200 * time.Millisecond) {
		if rows, err = projections.CaseloadCount(r, org); err != nil {
			return "", 0, 0, err
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return "", 0, 0, fmt.Errorf("national caseload: %d of %d rows after 30 minutes: %w", rows, NationalCases, context.DeadlineExceeded)
		}
	}
	q := projections.CaseQuery{Org: org, Now: now}
	if p, err := projections.CaseloadPage(r, q); err != nil || len(p.Rows) != projections.DefaultPageSize {
		return "", 0, 0, fmt.Errorf("national caseload page: %d rows: %w", len(p.Rows), err)
	}
	ms, err := p99(1000, func() error { _, err := projections.CaseloadPage(r, q); return err })
	return org, rows, ms, err
}
