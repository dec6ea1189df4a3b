package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"sync"
)

// macSize is the length of an HMAC-SHA256 signature: 32 bytes, 43
// characters of unpadded base64url.
const macSize = sha256.Size

// macPool keeps HMAC-SHA256 states keyed with SECRET_KEY. A join checks and
// makes about ten signatures; hmac.New hashes the key's two pads for each
// (two of a signature's four or five SHA-256 blocks) and allocates about
// 1 KB, while Reset on a used state restores the keyed state it saved.
type macPool struct{ pool sync.Pool }

// macState is one pooled HMAC with a scratch buffer for the message.
type macState struct {
	h   hash.Hash
	msg []byte
	out [macSize]byte // Sum's target: an array of the caller's would escape through the interface
}

func newMACPool(key []byte) *macPool {
	p := &macPool{}
	p.pool.New = func() any { return &macState{h: hmac.New(sha256.New, key), msg: make([]byte, 0, 256)} }
	return p
}

// sum is HMAC(purpose, parts...). Each part is prefixed with its length,
// so that ("ab","c") and ("a","bc") differ.
func (p *macPool) sum(purpose string, parts ...string) [macSize]byte {
	st := p.pool.Get().(*macState)
	m := appendPart(st.msg[:0], purpose)
	for _, s := range parts {
		m = appendPart(m, s)
	}
	st.h.Reset()
	st.h.Write(m)
	st.h.Sum(st.out[:0])
	out := st.out
	if cap(m) <= 4<<10 { // a huge message's buffer is not kept
		st.msg = m[:0]
	}
	p.pool.Put(st)
	return out
}

func appendPart(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

// strictSig decodes signatures (equalSig); read only.
var strictSig = base64.RawURLEncoding.Strict()

// appendSig appends the base64url form of a signature.
func appendSig(b []byte, sum *[macSize]byte) []byte {
	return base64.RawURLEncoding.AppendEncode(b, sum[:])
}

// equalSig compares the base64url signature sig with sum in constant time.
// Strict decoding: the last character's two unused bits must be zero, so
// that a signature, and a sealed value, has one spelling.
func equalSig(sig string, sum *[macSize]byte) bool {
	var got [macSize + 3]byte // DecodedLen(43) rounds up
	if len(sig) != base64.RawURLEncoding.EncodedLen(macSize) {
		return false
	}
	n, err := strictSig.Decode(got[:], []byte(sig))
	return err == nil && hmac.Equal(got[:n], sum[:])
}
