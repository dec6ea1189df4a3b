// The part of htmx 2 and of its SSE extension (vendor/htmx-ext-sse-2.2.4.min.js)
// that stream.js, lobby.js and chat.js use; merged into globals.d.ts's HtmxSwap.

declare global {
  interface HtmxSwap {
    /** Initialises htmx attributes (hx-*, sse-*) on elt and its descendants. */
    process(elt: Element): void;
    /** The SSE extension makes every EventSource through this; replaceable. */
    createEventSource?: (url: string) => EventSource;
  }
}

export {};
