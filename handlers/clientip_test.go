package handlers

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// The test connection of fiber.App.Test comes from 0.0.0.0.
func TestClientAddressIsTheRightmostUntrustedHop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		proxies []string
		xff     []string // X-Forwarded-For headers, in order
		want    string
	}{
		{"no proxy trusted: the peer, whatever the header says", nil, []string{"203.0.113.7"}, "0.0.0.0"},
		{"trusted peer without the header: the peer", []string{"0.0.0.0/32"}, nil, "0.0.0.0"},
		{"trusted peer: the entry it appended", []string{"0.0.0.0"}, []string{"203.0.113.7"}, "203.0.113.7"},
		{"entries the client wrote in front are ignored", []string{"0.0.0.0/32"}, []string{"1.2.3.4, 5.6.7.8, 203.0.113.7"}, "203.0.113.7"},
		{"trusted hops on the right are skipped", []string{"0.0.0.0/32", "10.0.0.0/8"}, []string{"9.9.9.9, 203.0.113.7, 10.1.2.3"}, "203.0.113.7"},
		{"several headers are one list", []string{"0.0.0.0/32"}, []string{"9.9.9.9", "203.0.113.7"}, "203.0.113.7"},
		{"an entry with a port", []string{"0.0.0.0/32"}, []string{"203.0.113.7:5123"}, "203.0.113.7"},
		{"garbage written by the client is not a key", []string{"0.0.0.0/32", "10.0.0.0/8"}, []string{"<script>, 10.1.2.3"}, "10.1.2.3"},
		{"IPv6 counts by /64", []string{"0.0.0.0/32"}, []string{"[2001:db8:1:2:aaaa::1]:443"}, "2001:db8:1:2::/64"},
		{"another address in the same /64 shares the key", []string{"0.0.0.0/32"}, []string{"2001:db8:1:2:ffff::9"}, "2001:db8:1:2::/64"},
		{"a v4-mapped v6 address is the v4 one", []string{"0.0.0.0/32"}, []string{"::ffff:203.0.113.7"}, "203.0.113.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addrs := newClientAddrs(tt.proxies)
			app := fiber.New()
			app.Get("/", func(c *fiber.Ctx) error { return c.SendString(addrs.key(c)) })
			req := httptest.NewRequest("GET", "/", nil)
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			resp, err := app.Test(req)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			buf := make([]byte, 256)
			n, _ := resp.Body.Read(buf)
			b.Write(buf[:n])
			if b.String() != tt.want {
				t.Errorf("got %q, want %q", b.String(), tt.want)
			}
		})
	}
}
