//go:build pprof

package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startProfiling serves net/http/pprof on SWROOMS_PPROF_ADDR, a loopback
// address ("127.0.0.1:0" picks a port, logged as "pprof"), for `task
// profile`. Only a binary built with -tags pprof has it; production builds
// compile profiling.go, which serves nothing.
func startProfiling(vars map[string]string, log *slog.Logger) (stop func(), err error) {
	addr := vars["SWROOMS_PPROF_ADDR"]
	if addr == "" {
		return func() {}, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("SWROOMS_PPROF_ADDR: want a loopback address such as 127.0.0.1:0, got %q", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("SWROOMS_PPROF_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("pprof stopped", "err", err)
		}
	}()
	log.Warn("pprof", "addr", "http://"+ln.Addr().String())
	return func() { srv.Close() }, nil
}
