//go:build !pprof

package main

import "log/slog"

// startProfiling does nothing in a production build: pprof is neither
// linked nor served. `task profile` builds with -tags pprof, which
// compiles profiling_pprof.go instead.
func startProfiling(map[string]string, *slog.Logger) (stop func(), err error) {
	return func() {}, nil
}
