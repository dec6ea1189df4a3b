// @ts-check
// The event channel to the server (roster/WIRE.md): one per join (an epoch).
// It numbers the wire events, batches them, posts one batch at a time, swaps
// the server's answer into #roster-panel, answers snapshot requests, and
// never loses an event silently: what the server could not take is resent
// with backoff, or replaced by a snapshot of the SDK's member list.

/** Limits of a channel; tests make them smaller. */
export const LIMITS = {
  /** Batches a burst (a join brings many events) while keeping an event's way to the roster short. */
  windowMs: 30,
  /** The island's own cap, well under the server's body limit. */
  maxBytes: 64 * 1024,
  /** roster.MaxBatchEvents. */
  maxEvents: 200,
  /** roster.MaxBatchBytes: a member list (room.joined, members.snapshot) may go alone up to it. */
  hardMaxBytes: 256 * 1024,
  /** Beyond this many queued events, the member events give way to a snapshot. */
  maxQueue: 2000,
  backoffBaseMs: 250,
  /**
   * Capped low: once the server takes batches again, the roster must catch
   * up within seconds, so no wait (not even a longer Retry-After) exceeds it.
   */
  backoffMaxMs: 4000,
};

/** The events that carry a whole member list, which may exceed maxBytes alone. */
const LIST_EVENTS = new Set(['room.joined', 'members.snapshot']);

/** @typedef {{seq: number, name: string, json: string, bytes: number}} Queued */
/** @typedef {'full' | 'delta'} Render */

/**
 * @typedef {object} ChannelOptions
 * @property {string} url the events URL
 * @property {string} seat the signed seat credential (X-Seat)
 * @property {(html: string, render: Render) => void} swap puts an answer in place
 * @property {() => Promise<object | null>} snapshot the data of a members.snapshot
 *   event from getMembers(); null when there is no call any more; throws to be asked again later
 * @property {(message: string) => void} say shows a sentence about the roster to the user
 * @property {(status: number) => void} [stopped] the server refused the channel for good (403 or 409)
 * @property {boolean} [delta] whether delta answers can be applied; without, the
 *   channel never sends X-Roster-Base, so every answer is full
 * @property {Partial<typeof LIMITS>} [limits]
 * @property {typeof fetch} [fetch] for tests; by default the page's fetch at call time
 */

/**
 * @typedef {object} Channel
 * @property {(name: string, data: object) => void} send queues one wire event
 * @property {() => void} snapshot sends a members.snapshot (unless one is on its way)
 * @property {() => void} pushed rows of this roster arrived over the stream: an
 *   answer in flight may have been rendered before them and would undo them
 *   when swapped in, so a snapshot follows it and its whole answer wins
 * @property {() => void} close forgets the channel: nothing more is sent or swapped
 * @property {() => {base: string, queued: number, stopped: boolean, epoch: string}} state for tests
 */

const encoder = new TextEncoder();

/** Random hex, also on insecure origins where crypto.randomUUID is missing. */
function randomId() {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * Opens the channel of one join.
 * @param {ChannelOptions} opts
 * @returns {Channel}
 */
export function openChannel(opts) {
  const limits = { ...LIMITS, ...opts.limits };
  const post = opts.fetch ?? ((input, init) => fetch(input, init));
  const useBase = opts.delta !== false;
  const epoch = randomId();
  const envelope = encoder.encode(`{"epoch":${JSON.stringify(epoch)},"events":[]}`).length;

  let seq = 0;
  /** @type {Queued[]} */
  let queue = [];
  let inFlight = false;
  let timer = 0;
  let closed = false;
  let stopped = false;
  /** The version the panel shows; '' when unknown, which makes the next answer full. */
  let base = '';
  /** Consecutive failed or refused posts, for the backoff. */
  let failures = 0;
  /** After a 413, the most events a batch may carry until a post succeeds. */
  let split = 0;
  /** getMembers() is running for a snapshot. */
  let asking = false;
  /** The seq of a queued snapshot the server has not answered yet, so one request is not answered twice. */
  let snapshotSeq = 0;
  let snapshotFailures = 0;
  /** Rows were pushed while a post was in flight: a snapshot follows its answer. */
  let resync = false;

  /** @param {number} n */
  const backoff = (n) => {
    const d = Math.min(limits.backoffMaxMs, limits.backoffBaseMs * 2 ** Math.min(Math.max(n - 1, 0), 16));
    return d / 2 + Math.random() * (d / 2);
  };

  /** @param {number} delay */
  function schedule(delay) {
    if (timer || inFlight || closed || stopped || queue.length === 0) return;
    timer = window.setTimeout(pump, delay);
  }

  /**
   * Queues one event; returns its seq, or 0 when it was not queued.
   * @param {string} name
   * @param {object} data
   */
  function enqueue(name, data) {
    if (closed || stopped) return 0;
    const next = seq + 1;
    const json = JSON.stringify({ seq: next, name, data });
    const bytes = encoder.encode(json).length;
    const cap = LIST_EVENTS.has(name) ? limits.hardMaxBytes : limits.maxBytes;
    if (envelope + bytes > cap) {
      // Too large to post. A snapshot says where every member stands, which
      // is what any member event would have changed.
      if (name === 'room.joined') {
        const { members: _, ...rest } = /** @type {{members?: unknown}} */ (data);
        return enqueue(name, rest); // without a list, the server asks for a snapshot
      }
      if (name === 'members.snapshot') {
        opts.say('This room has more people than the participant list can show.');
      } else {
        askSnapshot();
      }
      return 0;
    }
    seq = next;
    queue.push({ seq, name, json, bytes });
    if (queue.length > limits.maxQueue) compact();
    schedule(limits.windowMs);
    return seq;
  }

  /** The server has been unreachable for long: a snapshot replaces the member events. */
  function compact() {
    queue = queue.filter((e) => !e.name.startsWith('member'));
    if (snapshotSeq && !queue.some((e) => e.seq === snapshotSeq)) snapshotSeq = 0;
    // What is left says how the room changed; the newest say most.
    if (queue.length > limits.maxQueue) queue.splice(0, queue.length - limits.maxQueue);
    askSnapshot();
  }

  async function askSnapshot() {
    if (closed || stopped || asking || snapshotSeq) return;
    asking = true;
    /** @type {object | null} */
    let data = null;
    try {
      data = await opts.snapshot();
    } catch {
      asking = false;
      snapshotFailures += 1;
      // The SDK could not list the members (a blip): ask it again.
      if (!closed && !stopped) window.setTimeout(askSnapshot, backoff(snapshotFailures));
      return;
    }
    asking = false;
    snapshotFailures = 0;
    if (data) snapshotSeq = enqueue('members.snapshot', data);
  }

  /** Posts the oldest queued events; one request at a time, so answers apply in order. */
  async function pump() {
    timer = 0;
    if (inFlight || closed || stopped || queue.length === 0) return;
    const maxEvents = split || limits.maxEvents;
    let bytes = envelope;
    let n = 0;
    while (n < queue.length && n < maxEvents) {
      const add = queue[n].bytes + (n > 0 ? 1 : 0);
      if (n > 0 && bytes + add > limits.maxBytes) break;
      bytes += add;
      n += 1;
    }
    const batch = queue.slice(0, n);
    /** @type {Record<string, string>} */
    const headers = { 'X-Seat': opts.seat, 'Content-Type': 'application/json', 'HX-Request': 'true', Accept: 'text/html' };
    if (useBase && base) headers['X-Roster-Base'] = base;
    const body = `{"epoch":${JSON.stringify(epoch)},"events":[${batch.map((e) => e.json).join(',')}]}`;
    inFlight = true;
    /** @type {Response | null} */
    let res = null;
    let html = '';
    try {
      res = await post(opts.url, { method: 'POST', credentials: 'same-origin', headers, body });
      html = await res.text(); // read before the next request may start
    } catch {
      res = null; // a network error: resent below
    }
    inFlight = false;
    if (closed) return; // a rejoin began meanwhile: this answer describes the old call
    answer(batch, res, html);
  }

  /**
   * Acts on the server's answer to a batch.
   * @param {Queued[]} batch
   * @param {Response | null} res
   * @param {string} html
   */
  function answer(batch, res, html) {
    const status = res ? res.status : 0;
    // Only a swapped answer can undo pushed rows; a resend's answer is
    // rendered after them anyway.
    const undone = resync && status === 200;
    resync = false;
    if (!res || status === 429 || status >= 500) {
      // Keep the events, in order. Whether the server applied them is
      // unknown, so forget the base: the answer to the resend is full.
      base = '';
      failures += 1;
      schedule(Math.max(backoff(failures), retryAfter(res, limits.backoffMaxMs)));
      return;
    }
    if (status === 413 && batch.length > 1) {
      split = Math.max(1, Math.floor(batch.length / 2));
      schedule(0);
      return;
    }
    // Answered for good: applied, or refused in a way a resend cannot fix.
    const lastSeq = batch[batch.length - 1].seq;
    queue = queue.filter((e) => e.seq > lastSeq);
    if (snapshotSeq && snapshotSeq <= lastSeq) snapshotSeq = 0;
    if (res.ok) {
      failures = 0;
      split = 0;
      if (status === 200) {
        opts.swap(html, res.headers.get('X-Roster-Render') === 'delta' ? 'delta' : 'full');
        base = res.headers.get('X-Roster-Version') || '';
      }
      if (res.headers.get('X-Roster-Snapshot') === 'needed' || undone) askSnapshot();
      // Events that arrived meanwhile have waited long enough.
      schedule(0);
      return;
    }
    refused(status, batch);
    // Refusals back off too, so that a server refusing everything is not hammered.
    failures += 1;
    schedule(backoff(failures));
  }

  /**
   * The server refused a batch it would refuse again: it is dropped, and the
   * roster repaired with a snapshot, or the channel stops.
   * @param {number} status
   * @param {Queued[]} batch
   */
  function refused(status, batch) {
    if (status === 403) {
      stopped = true;
      if (opts.stopped) opts.stopped(status);
      else opts.say('This call can no longer update the participant list. Reload the page and join again.');
    } else if (status === 409) {
      stopped = true;
      if (opts.stopped) opts.stopped(status);
      else opts.say('This call was replaced by a newer one, in this or another tab. Reload the page and join again.');
    } else if (status === 422) {
      opts.say('This room has more people than the participant list can show.');
    } else if (!(status === 413 && batch[0].name === 'members.snapshot')) {
      // 400, a single event too large (413), or an answer this island does
      // not know: what the dropped events said, a snapshot says again.
      askSnapshot();
    }
  }

  return {
    send: (name, data) => {
      enqueue(name, data);
    },
    snapshot: () => {
      askSnapshot();
    },
    pushed: () => {
      if (inFlight) resync = true;
    },
    close: () => {
      closed = true;
      clearTimeout(timer);
      timer = 0;
    },
    state: () => ({ base, queued: queue.length, stopped, epoch }),
  };
}

/**
 * The wait a 429 or 503 asks for, in ms, capped; 0 without one.
 * @param {Response | null} res
 * @param {number} cap
 */
function retryAfter(res, cap) {
  const v = res?.headers.get('Retry-After');
  const s = v ? Number(v) : NaN;
  return Number.isFinite(s) && s > 0 ? Math.min(s * 1000, cap) : 0;
}

/**
 * Puts an answer in place: a full render replaces the panel's content; a
 * delta holds only out-of-band elements (hx-swap-oob), which htmx applies
 * with swapStyle none and nothing else.
 * @param {string} html
 * @param {Render} render
 */
export function swapRoster(html, render) {
  const htmx = window.htmx;
  if (htmx && typeof htmx.swap === 'function') {
    htmx.swap('#roster-panel', html, { swapStyle: render === 'delta' ? 'none' : 'innerHTML' });
  } else if (render === 'full') {
    // Without htmx the channel sends no base, so every answer is full.
    const panel = document.getElementById('roster-panel');
    if (panel) panel.innerHTML = html;
  }
}

/** Whether delta answers can be applied on this page. */
export const canSwapDelta = () => typeof window.htmx?.swap === 'function';
