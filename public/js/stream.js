// @ts-check
// The page's push channel (issue 16): one server-sent event stream, which
// htmx's SSE extension consumes, swapping the server's fragments into the
// elements that name an event (sse-swap). This module only connects it:
//
// - The stream URL carries a short-lived ticket (EventSource sends no
//   headers). A fresh one is fetched before it runs out, and every
//   EventSource the extension makes goes through htmx.createEventSource,
//   which this module replaces, so a reconnect never uses a stale ticket.
// - EventSource's own reconnect sends Last-Event-ID, and the server replays
//   what was missed. When the extension makes a new EventSource (after a
//   refused reconnect), the last ID seen goes in ?last= instead.
// - X-Seat is added to the page's htmx requests to its room (chat, lobby
//   and moderators' actions), which the server authorises by seat.

/** How often the ticket is renewed; the server's tickets last 5 minutes. */
const REFRESH_MS = 2 * 60 * 1000;

const state = {
  /** The latest stream URL with a valid ticket, path + query. */
  url: '',
  /** Last-Event-ID of the latest event seen. */
  lastId: '',
  /** @type {Record<string, string>} headers that authorise a ticket refresh */
  auth: {},
  ticketURL: '',
  csrf: '',
  /** The room's base path, whose htmx requests carry the seat. */
  base: '',
  seat: '',
  timer: 0,
  installed: false,
  /** @type {EventSource | null} the page's one stream */
  source: null,
  /** @type {Element | null} the element the seat stream is connected on */
  root: null,
  /** Connections made, so that each one's targets look new to htmx. */
  gen: 0,
};

/**
 * Starts the stream for a page in the call: asks for a ticket with the
 * seat credential, then connects root (an element enclosing every
 * [data-sse] target) and keeps the ticket fresh.
 * @param {Element} root
 * @param {{room: string, seat: string, csrf: string}} opts
 */
export async function openSeatStream(root, opts) {
  state.base = `/rooms/${encodeURIComponent(opts.room)}`;
  state.seat = opts.seat;
  install();
  const url = await configure(`${state.base}/stream-ticket`, { 'X-Seat': opts.seat }, opts.csrf);
  if (!url) return false;
  connect(root, url);
  return true;
}

/**
 * Keeps the ticket of a stream the server's fragment connects by itself
 * (the lobby's sse-connect) fresh.
 * @param {string} room
 * @param {string} lobbyTicket
 * @param {string} csrf
 * @param {string} url the fragment's first stream URL
 */
export function keepLobbyStream(room, lobbyTicket, csrf, url) {
  install();
  state.url = url;
  state.ticketURL = `/rooms/${encodeURIComponent(room)}/stream-ticket`;
  state.auth = { 'X-Lobby': lobbyTicket };
  state.csrf = csrf;
  schedule();
}

/** Closes the stream and stops renewing tickets (the page left the call or the lobby). */
export function stopStream() {
  clearInterval(state.timer);
  state.timer = 0;
  state.seat = '';
  state.lastId = '';
  state.source?.close();
  state.source = null;
  delete document.body.dataset.stream;
  // Nothing reconnects a stream of a call that is over.
  state.root?.removeAttribute('sse-connect');
  state.root = null;
}

/**
 * Sets the SSE attributes on root and on its [data-sse] targets and lets
 * htmx process them: the extension opens the EventSource and registers
 * each target's event.
 * @param {Element} root
 * @param {string} url
 */
function connect(root, url) {
  state.root = root;
  state.gen += 1;
  // htmx initialises an element again only when its attributes changed:
  // after a rejoin the targets must register with the new EventSource, not
  // stay on the closed one, so each connection marks them anew.
  for (const el of root.querySelectorAll('[data-sse]')) {
    el.setAttribute('sse-swap', el.getAttribute('data-sse') || '');
    el.setAttribute('data-sse-gen', String(state.gen));
  }
  root.setAttribute('hx-ext', 'sse');
  root.setAttribute('sse-connect', url);
  window.htmx?.process(root);
}

/**
 * Fetches a first ticket and keeps it fresh.
 * @param {string} ticketURL
 * @param {Record<string, string>} auth
 * @param {string} csrf
 */
async function configure(ticketURL, auth, csrf) {
  Object.assign(state, { ticketURL, auth, csrf });
  const url = await refresh();
  schedule();
  return url;
}

function schedule() {
  clearInterval(state.timer);
  state.timer = window.setInterval(refresh, REFRESH_MS);
}

/** Asks for a fresh ticket; '' when the server refuses or cannot be reached. */
async function refresh() {
  try {
    const res = await fetch(state.ticketURL, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'X-Csrf-Token': state.csrf, ...state.auth },
    });
    if (!res.ok) return '';
    /** @type {{url?: string}} */
    const data = await res.json();
    if (typeof data.url === 'string' && data.url.startsWith('/rooms/')) state.url = data.url;
    return state.url;
  } catch {
    return '';
  }
}

/**
 * The stream URL to open now: the freshest ticket, and the last event seen.
 * @param {string} asked the URL the extension was given
 */
function streamURL(asked) {
  const u = new URL(state.url || asked, location.href);
  if (state.lastId) u.searchParams.set('last', state.lastId);
  return u.pathname + u.search;
}

/**
 * Hooks into htmx once: EventSource creation, event IDs, the seat header.
 * Call before swapping in a fragment that connects a stream by itself.
 */
export function install() {
  if (state.installed || !window.htmx) return;
  state.installed = true;
  window.htmx.createEventSource = (url) => {
    state.source?.close();
    const source = new EventSource(streamURL(url));
    // The page says whether its stream is up: what the server pushes
    // before it is reaches the page only as the state sent on connect.
    document.body.dataset.stream = 'connecting';
    source.addEventListener('open', () => { if (state.source === source) document.body.dataset.stream = 'open'; });
    source.addEventListener('error', () => { if (state.source === source) document.body.dataset.stream = 'connecting'; });
    state.source = source;
    return source;
  };
  document.body.addEventListener('htmx:sseMessage', (ev) => {
    const msg = /** @type {CustomEvent<MessageEvent>} */ (ev).detail;
    if (msg && typeof msg.lastEventId === 'string' && msg.lastEventId) state.lastId = msg.lastEventId;
  });
  document.body.addEventListener('htmx:configRequest', (ev) => {
    const detail = /** @type {CustomEvent<{path: string, headers: Record<string, string>}>} */ (ev).detail;
    if (state.seat && state.base && detail.path.startsWith(`${state.base}/`)) detail.headers['X-Seat'] = state.seat;
  });
}
