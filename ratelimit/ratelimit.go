// Package ratelimit provides named budgets of token buckets, one bucket per
// key (a client address, a room, a seat): burst units at once, refilled at
// a steady rate. Memory keeps the buckets in this process; Redis keeps them
// in Redis, so that every instance behind a load balancer spends from the
// same bucket.
//
// Both answer the same two questions: Take spends one unit of a key's
// bucket, or says how long until one is back; Has says whether a unit is
// there without spending it (for budgets charged only after a request
// fails).
//
// # Redis keys
//
//	swr:rl:<name>:<key>   string (GCRA's theoretical arrival time, seconds)
//
// A key expires when its bucket would be full again (burst/rate seconds
// after its last unit was spent: 60 s for a budget refilled by the minute),
// so an idle key never lingers and a full bucket costs no memory.
package ratelimit

import "fmt"

// checkBucket refuses a bucket that could never work: empty, or never
// refilled. Callers pass constants, so this is a programming error.
func checkBucket(burst int, perSecond float64) {
	if burst < 1 || !(perSecond > 0) {
		panic(fmt.Sprintf("ratelimit: a bucket needs burst >= 1 and perSecond > 0, got %d and %v", burst, perSecond))
	}
}
