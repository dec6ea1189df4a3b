package handlers

import (
	"net"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// clientAddrs finds the address a request really comes from, for keying
// limits on something a client cannot choose. Fiber's c.IP() with a proxy
// header returns the header's whole first value, which the client writes
// itself when a proxy appends to it.
type clientAddrs struct {
	trusted []netip.Prefix
}

// newClientAddrs takes TRUSTED_PROXIES: CIDRs or bare addresses, already
// checked by the configuration; an entry that does not parse trusts nothing.
func newClientAddrs(proxies []string) clientAddrs {
	var a clientAddrs
	for _, p := range proxies {
		p = strings.TrimSpace(p)
		if pfx, err := netip.ParsePrefix(p); err == nil {
			a.trusted = append(a.trusted, pfx.Masked())
		} else if ip, err := netip.ParseAddr(p); err == nil {
			a.trusted = append(a.trusted, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
		}
	}
	return a
}

func (a clientAddrs) isTrusted(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range a.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// addr is the client's address: the peer's, unless the peer is a trusted
// proxy; then the rightmost X-Forwarded-For entry that is not a trusted
// proxy (every proxy appends the address it saw, so entries left of that
// one were written by the client and prove nothing). When every entry is a
// trusted proxy, the leftmost; when an entry is not an address, the last
// trusted hop before it.
func (a clientAddrs) addr(c *fiber.Ctx) netip.Addr {
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	peer = peer.Unmap()
	if !peer.IsValid() || !a.isTrusted(peer) {
		return peer
	}
	var entries []string
	for _, v := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
		entries = append(entries, strings.Split(string(v), ",")...)
	}
	hop := peer
	for i := len(entries) - 1; i >= 0; i-- {
		ip, ok := parseForwarded(entries[i])
		if !ok {
			return hop
		}
		hop = ip
		if !a.isTrusted(ip) {
			return ip
		}
	}
	return hop
}

// parseForwarded reads one X-Forwarded-For entry: an address, possibly with
// a port ("203.0.113.7:5123", "[2001:db8::1]:443").
func parseForwarded(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ip, err := netip.ParseAddr(s); err == nil {
		return ip.Unmap().WithZone(""), true
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		if ip, err := netip.ParseAddr(host); err == nil {
			return ip.Unmap().WithZone(""), true
		}
	}
	return netip.Addr{}, false
}

// key is what per-client limits count under: the IPv4 address, or the
// IPv6 /64, since one subscriber usually gets a whole /64 and could
// otherwise take a fresh address for every request.
func (a clientAddrs) key(c *fiber.Ctx) string {
	ip := a.addr(c)
	if !ip.IsValid() {
		return "unknown" // no peer address at all (not over TCP): one shared bucket
	}
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
