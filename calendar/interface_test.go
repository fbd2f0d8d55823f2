package calendar_test

import (
	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/calendar"
)

// The calendar is the aggregate's working-day source.
var _ aggregates.WorkingDays = calendar.EnglandAndWales{}
