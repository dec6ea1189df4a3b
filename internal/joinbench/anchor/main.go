// Command anchor is the join benchmark's yardstick: a Fiber app with no
// middleware that answers every GET with the same 2 KB HTML page. The
// benchmark runs it as a child process, as it runs swrooms, so that both
// are measured the same way; it is not part of swrooms.
package main

import (
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// pageBytes is the body's size: a small page, the size of a moderator
// page's HTML without its roster.
const pageBytes = 2048

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "anchor:", err)
		os.Exit(1)
	}
}

// run listens on args[0] (default 127.0.0.1:0) and prints
// "listening http://ADDR" once it does.
func run(args []string) error {
	addr := "127.0.0.1:0"
	if len(args) > 0 {
		addr = args[0]
	}
	page := []byte(constantPage())
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/", func(c *fiber.Ctx) error {
		c.Type("html", "utf-8")
		return c.Send(page)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Println("listening http://" + ln.Addr().String())
	return app.Listener(ln)
}

// constantPage is an HTML document of exactly pageBytes bytes.
func constantPage() string {
	head := "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Anchor</title></head><body><main><p>"
	tail := "</p></main></body></html>\n"
	return head + strings.Repeat("x", pageBytes-len(head)-len(tail)) + tail
}
