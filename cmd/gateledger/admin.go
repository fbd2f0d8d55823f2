package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// adminServer serves the profiler (net/http/pprof) on its own address, never on the
// API's: profiles expose the process's internals and can be expensive to take.
type adminServer struct {
	srv  *http.Server
	addr net.Addr
	done chan error
}

// startAdmin listens on addr; a bare port (":6060") listens on loopback only. Any other
// host is taken as asked for, with a warning.
func startAdmin(addr string, log *slog.Logger) (*adminServer, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--admin-listen %q: %w", addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); (ip == nil && host != "localhost") || (ip != nil && !ip.IsLoopback()) {
		log.Warn("the admin address (profiling) is not loopback: keep it off public networks", "admin", addr)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("admin address: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	a := &adminServer{
		// No write timeout: a CPU profile or trace takes as long as ?seconds= asks.
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)},
		addr: ln.Addr(),
		done: make(chan error, 1),
	}
	go func() {
		err := a.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		a.done <- err
	}()
	log.Info("admin address ready: profiling at /debug/pprof/", "admin", a.addr.String())
	return a, nil
}

func (a *adminServer) shutdown(ctx context.Context) error {
	if a == nil {
		return nil
	}
	// A profile in progress is cut short rather than holding up the shutdown.
	err := a.srv.Close()
	if err == nil {
		err = <-a.done
	}
	return err
}
