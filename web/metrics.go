package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gateledger/gateledger/eventlog"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/projections/readmodel"
)

// Metrics holds the ledger's Prometheus metrics in a registry of its own (never
// the global default one, so that two servers in one test binary do not
// collide). Create it with NewMetrics and pass it to New in Config.Metrics, and
// to the WebSocket live feed, which reports its connections with
// LiveConnected, LiveDisconnected and LiveDropped. A nil *Metrics ignores
// every call, so the live feed can be tested without one.
//
// The families:
//
//	gateledger_http_requests_total{route,code}            counter
//	gateledger_http_request_duration_seconds{route,code}  histogram
//	gateledger_http_requests_in_flight                    gauge
//	gateledger_http_rate_limited_total                    counter
//	gateledger_commands_total{command,outcome}            counter (outcome: recorded, duplicate, unchanged, refused, failed)
//	gateledger_events_appended_total                      counter
//	gateledger_feed_messages_total{disposition}           counter (apply, ignore, dead-letter, error)
//	gateledger_access_log_failures_total                  counter
//	gateledger_store_last_position                        gauge (read at scrape)
//	gateledger_projection_position                        gauge (lowest checkpoint)
//	gateledger_projection_lag                             gauge (store last position - projection position)
//	gateledger_projections_live                           gauge (1 once caught up and healthy)
//	gateledger_live_connections                           gauge
//	gateledger_live_connections_total                     counter
//	gateledger_live_drops_total                           counter
//
// route is the ServeMux pattern ("POST /v1/journeys/{noms}/receptions"), never
// the raw path, so that no NOMS number becomes a label value; unmatched
// requests are "unmatched".
type Metrics struct {
	reg *prometheus.Registry

	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	inFlight   prometheus.Gauge
	limited    prometheus.Counter
	commands   *prometheus.CounterVec
	appended   prometheus.Counter
	feed       *prometheus.CounterVec
	accessFail prometheus.Counter

	liveConns   prometheus.Gauge
	liveTotal   prometheus.Counter
	liveDropped prometheus.Counter
}

// NewMetrics creates the metrics and their registry, with the Go runtime and
// process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gateledger_http_requests_total",
		Help: "HTTP requests answered, by route pattern and status code."}, []string{"route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gateledger_http_request_duration_seconds",
		Help:    "Time to answer HTTP requests, by route pattern and status code.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"route", "code"})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "gateledger_http_requests_in_flight",
		Help: "HTTP requests being answered."})
	m.limited = prometheus.NewCounter(prometheus.CounterOpts{Name: "gateledger_http_rate_limited_total",
		Help: "Requests refused with 429 by the per-principal rate limit."})
	m.commands = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gateledger_commands_total",
		Help: "Journey commands received over HTTP, by command and outcome (recorded, duplicate, unchanged, refused, failed)."},
		[]string{"command", "outcome"})
	m.appended = prometheus.NewCounter(prometheus.CounterOpts{Name: "gateledger_events_appended_total",
		Help: "Journey events appended by HTTP commands and the HMPPS feed endpoint."})
	m.feed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gateledger_feed_messages_total",
		Help: "HMPPS feed messages received, by disposition (apply, ignore, dead-letter, error)."}, []string{"disposition"})
	m.accessFail = prometheus.NewCounter(prometheus.CounterOpts{Name: "gateledger_access_log_failures_total",
		Help: "Reads refused because the access could not be recorded."})
	m.liveConns = prometheus.NewGauge(prometheus.GaugeOpts{Name: "gateledger_live_connections",
		Help: "Open WebSocket live feed connections."})
	m.liveTotal = prometheus.NewCounter(prometheus.CounterOpts{Name: "gateledger_live_connections_total",
		Help: "WebSocket live feed connections accepted."})
	m.liveDropped = prometheus.NewCounter(prometheus.CounterOpts{Name: "gateledger_live_drops_total",
		Help: "WebSocket live feed connections closed by the server because the client fell behind."})
	m.reg.MustRegister(m.requests, m.latency, m.inFlight, m.limited, m.commands, m.appended, m.feed, m.accessFail,
		m.liveConns, m.liveTotal, m.liveDropped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where the metrics are registered; other packages may register
// their own collectors in it.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// LiveConnected counts a WebSocket connection opened.
func (m *Metrics) LiveConnected() {
	if m != nil {
		m.liveConns.Inc()
		m.liveTotal.Inc()
	}
}

// LiveDisconnected counts a WebSocket connection closed, for any reason
// (call it once per LiveConnected).
func (m *Metrics) LiveDisconnected() {
	if m != nil {
		m.liveConns.Dec()
	}
}

// LiveDropped counts a connection the server closed because its client fell
// behind (queue overflow). Call LiveDisconnected as well when it closes.
func (m *Metrics) LiveDropped() {
	if m != nil {
		m.liveDropped.Inc()
	}
}

func (m *Metrics) observe(route string, code int, d time.Duration) {
	c := strconv.Itoa(code)
	m.requests.WithLabelValues(route, c).Inc()
	m.latency.WithLabelValues(route, c).Observe(d.Seconds())
}

func (m *Metrics) command(name, outcome string, events int) {
	m.commands.WithLabelValues(name, outcome).Inc()
	if events > 0 {
		m.appended.Add(float64(events))
	}
}

// ledgerCollector reads the store's last position and the projections'
// position at scrape time, so that the lag is exact when asked for and costs
// nothing in between.
type ledgerCollector struct {
	store  *eventstore.Conn
	runner *readmodel.Runner

	last, pos, lag, live *prometheus.Desc
}

func newLedgerCollector(store *eventstore.Conn, runner *readmodel.Runner) *ledgerCollector {
	return &ledgerCollector{store: store, runner: runner,
		last: prometheus.NewDesc("gateledger_store_last_position", "Position in $all of the event store's last event.", nil, nil),
		pos:  prometheus.NewDesc("gateledger_projection_position", "Lowest checkpoint of the healthy read models.", nil, nil),
		lag:  prometheus.NewDesc("gateledger_projection_lag", "Store last position minus projection position (0 when caught up).", nil, nil),
		live: prometheus.NewDesc("gateledger_projections_live", "1 when the read models have caught up and none has failed.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *ledgerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.last
	ch <- c.pos
	ch <- c.lag
	ch <- c.live
}

// Collect implements prometheus.Collector.
func (c *ledgerCollector) Collect(ch chan<- prometheus.Metric) {
	pos := c.runner.Position()
	ch <- prometheus.MustNewConstMetric(c.pos, prometheus.GaugeValue, float64(pos))
	live := 0.0
	if c.runner.Live() {
		live = 1
	}
	ch <- prometheus.MustNewConstMetric(c.live, prometheus.GaugeValue, live)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	last, err := eventlog.LastPosition(ctx, c.store.Client)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.last, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.last, prometheus.GaugeValue, float64(last))
	lag := 0.0
	if last > pos {
		lag = float64(last - pos)
	}
	ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, lag)
}

func (m *Metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError})
}
