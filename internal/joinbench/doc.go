// Package joinbench holds `task bench:join` and `task profile`: they run
// swrooms as a child process against the SignalWire REST fake (served
// inside the benchmark, so its CPU is not counted), drive the join path
// (moderator page, then POST /rooms/{room}/token) from many browser
// identities, and compare the app's CPU per request with a plain Fiber
// page's (./anchor). The package has no code outside its tests; the
// benchmark is skipped unless asked for with -args -joinbench.
package joinbench
