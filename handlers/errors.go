package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/swrooms/swrooms/signalwire"
	"github.com/swrooms/swrooms/views"
)

// userError is a failure whose message is meant for the user: it says what
// happened and what to do. Its cause, if any, goes to the log only.
type userError struct {
	status      int
	title       string
	message     string
	actionURL   string
	actionLabel string
	cause       error
	// retryAfter, when set, is sent as Retry-After (whole seconds).
	retryAfter time.Duration
	// retryHere makes a full page's action "Try again" on the same address
	// (a GET reloads); a fragment gets no link, its page stays as it is.
	retryHere bool
}

func (e *userError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%d %s: %v", e.status, e.title, e.cause)
	}
	return fmt.Sprintf("%d %s", e.status, e.title)
}

func (e *userError) Unwrap() error { return e.cause }

func forbidden(message, actionURL, actionLabel string) error {
	return &userError{status: fiber.StatusForbidden, title: "Not allowed", message: message, actionURL: actionURL, actionLabel: actionLabel}
}

func badRequest(message string) error {
	return &userError{status: fiber.StatusBadRequest, title: "Bad request", message: message}
}

// actionError attaches a better "what to do" link to an error, such as
// a retry that keeps what the user typed.
type actionError struct {
	err   error
	url   string
	label string
}

func (e *actionError) Error() string { return e.err.Error() }
func (e *actionError) Unwrap() error { return e.err }

func withAction(err error, url, label string) error {
	return &actionError{err: err, url: url, label: label}
}

// handleError is Fiber's ErrorHandler: every error a handler returns ends
// here and becomes a page, a fragment or a JSON body with a safe message.
func (h *Handlers) handleError(c *fiber.Ctx, err error) error {
	ue := h.classify(err)
	level := slog.LevelInfo
	if ue.status >= 500 {
		level = slog.LevelError
	}
	ctx := c.UserContext()
	if requestID(ctx) == "" {
		// A request fasthttp could not read (headers too large, a
		// malformed request line) comes here with no middleware run: it
		// gets its id here, for its answer and its log line.
		id := utils.UUIDv4()
		c.Set(fiber.HeaderXRequestID, id)
		ctx = context.WithValue(ctx, requestIDKey{}, id)
	}
	h.log.Log(ctx, level, "request failed",
		"method", c.Method(), "path", c.Path(), "status", ue.status, "err", err)

	c.Set(fiber.HeaderCacheControl, "no-store")
	if ue.retryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, retryAfterSeconds(ue.retryAfter))
	}
	if wantsJSON(c) {
		return c.Status(ue.status).JSON(fiber.Map{"error": ue.message, "title": ue.title})
	}
	page := views.ErrorPage{Status: ue.status, Title: ue.title, Message: ue.message, ActionURL: ue.actionURL, ActionLabel: ue.actionLabel}
	if ue.retryHere && c.Method() == fiber.MethodGet && !isFragment(c) {
		page.ActionURL, page.ActionLabel = retryURL(c), "Try again"
	}
	if isFragment(c) {
		// An htmx request that fails shows its message in the flash area,
		// wherever the request meant to swap.
		c.Set("HX-Retarget", "#flash")
		c.Set("HX-Reswap", "innerHTML")
	}
	return h.render(c, ue.status, ue.title, views.Error(page))
}

// classify maps an error to what the user sees. The mapping from
// SignalWire's answers to HTTP statuses lives here and nowhere else.
func (h *Handlers) classify(err error) *userError {
	var ae *actionError
	if errors.As(err, &ae) {
		ue := *h.classify(ae.err)
		ue.actionURL, ue.actionLabel = ae.url, ae.label
		return &ue
	}
	var ue *userError
	if errors.As(err, &ue) {
		return ue
	}
	// Before the timeouts below: a Redis timeout is not SignalWire's.
	var ua interface{ Unavailable() bool }
	if errors.As(err, &ua) && ua.Unavailable() {
		return &userError{status: fiber.StatusServiceUnavailable, title: "Shared state unavailable",
			message: "The app cannot reach the store it keeps rooms, lobbies and chat in, so it could not do this. " +
				"Nothing you did caused it, and nothing was changed: try again in a moment.",
			cause: err, retryAfter: sharedStateRetry, retryHere: true}
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return fiberError(fe)
	}
	var be *signalwire.BudgetError
	if errors.As(err, &be) {
		return &userError{status: fiber.StatusServiceUnavailable, title: "Too busy right now",
			message:   "This app is making as many calls to SignalWire as it may right now. Wait a few seconds and try again.",
			actionURL: "/", actionLabel: "Try again", cause: err, retryAfter: be.RetryAfter}
	}
	var apiErr *signalwire.APIError
	if errors.As(err, &apiErr) {
		switch {
		case signalwire.IsRedirect(err):
			// Never followed: the credentials would go with it.
			return &userError{status: fiber.StatusBadGateway, title: "SignalWire sent an unexpected answer",
				message: "SignalWire answered with a redirect, which this app does not follow. Try again in a moment; if it keeps happening, tell the operator.", actionURL: "/", actionLabel: "Try again", cause: err}
		case apiErr.IsUnauthorized():
			return &userError{status: fiber.StatusBadGateway, title: "SignalWire refused the app",
				message: "SignalWire rejected this app's project key or API token. The operator needs to check SIGNALWIRE_PROJECT_KEY and SIGNALWIRE_TOKEN.", cause: err}
		case apiErr.IsRateLimited():
			return &userError{status: fiber.StatusServiceUnavailable, title: "SignalWire is busy",
				message: "SignalWire asked us to slow down. Wait a few seconds and try again.", actionURL: "/", actionLabel: "Try again", cause: err,
				retryAfter: max(apiErr.RetryAfter, time.Second)}
		case apiErr.StatusCode >= 500:
			return &userError{status: fiber.StatusBadGateway, title: "SignalWire had a problem",
				message: "SignalWire answered with an error on its side. Your room is safe; try again in a moment.", actionURL: "/", actionLabel: "Try again", cause: err,
				retryAfter: apiErr.RetryAfter}
		default:
			return &userError{status: fiber.StatusBadGateway, title: "SignalWire refused the request",
				message: "SignalWire did not accept the request for this room. Try another room name, or try again later.", actionURL: "/", actionLabel: "Back to the room picker", cause: err}
		}
	}
	if signalwire.IsMalformed(err) {
		return &userError{status: fiber.StatusBadGateway, title: "SignalWire sent an unreadable answer",
			message: "SignalWire answered, but not with anything this app can read. Try again in a moment; if it keeps happening, tell the operator.", actionURL: "/", actionLabel: "Try again", cause: err}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, signalwire.ErrTransport) {
		return &userError{status: fiber.StatusServiceUnavailable, title: "SignalWire did not answer",
			message: "We could not reach SignalWire in time. Check your connection and try again in a moment.", actionURL: "/", actionLabel: "Try again", cause: err}
	}
	return &userError{status: fiber.StatusInternalServerError, title: "Something went wrong",
		message: "Something went wrong on our side. Try again; if it keeps happening, tell the operator.", actionURL: "/", actionLabel: "Back to the start", cause: err}
}

// sharedStateRetry is the Retry-After of a Redis outage: the readiness
// check looks again every second, and a restarted Redis answers in a few.
const sharedStateRetry = 5 * time.Second

func fiberError(fe *fiber.Error) *userError {
	ue := &userError{status: fe.Code, title: "Error", message: fe.Message, actionURL: "/", actionLabel: "Back to the start"}
	switch fe.Code {
	case fiber.StatusNotFound:
		ue.title, ue.message = "Page not found", "There is nothing at this address. Check the link, or start from the room picker."
	case fiber.StatusMethodNotAllowed:
		ue.title, ue.message = "Not allowed", "This address does not accept that kind of request."
	case fiber.StatusRequestEntityTooLarge:
		ue.title, ue.message = "Too large", "The request was larger than this app accepts."
	case fiber.StatusTooManyRequests:
		ue.title, ue.message = "Too many attempts", "Too many attempts from your address. Wait a minute and try again."
	default:
		if fe.Code >= 500 {
			ue.title, ue.message = "Something went wrong", "Something went wrong on our side. Try again in a moment."
		} else if ue.message == "" || strings.EqualFold(ue.message, fiberStatusText(fe.Code)) {
			ue.title, ue.message = "Bad request", "The request could not be understood. Reload the page and try again."
		}
	}
	return ue
}

func fiberStatusText(code int) string { return fiber.NewError(code).Message }

// wantsJSON: the JS island asks for JSON; browsers navigating ask for HTML.
func wantsJSON(c *fiber.Ctx) bool {
	accept := c.Get(fiber.HeaderAccept)
	return strings.Contains(accept, fiber.MIMEApplicationJSON) && !strings.Contains(accept, fiber.MIMETextHTML)
}

// tooManyAttempts answers the passcode rate limit.
func (h *Handlers) tooManyAttempts(c *fiber.Ctx) error {
	return &userError{status: fiber.StatusTooManyRequests, title: "Too many attempts",
		message: "Too many failed attempts from your address. Wait a minute, then try again.", actionURL: "/", actionLabel: "Back to the room picker"}
}

// requireSignalWire shows one clear page while SignalWire refuses the
// app's credentials, instead of failing on every action.
func (h *Handlers) requireSignalWire(c *fiber.Ctx) error {
	space := h.status.Rejected()
	if space == "" {
		return c.Next()
	}
	return &userError{status: fiber.StatusServiceUnavailable, title: "SignalWire rejected the app's credentials",
		message: "SignalWire rejected the project key or token for " + space + ". The operator needs to fix SIGNALWIRE_PROJECT_KEY and SIGNALWIRE_TOKEN and restart the app."}
}
