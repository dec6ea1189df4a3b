// Helpers that island_browser_test.go drives: the normaliser over fixtures,
// and the event channel against a fake fetch (the server is not under test
// here, the channel is).
import { byEvent, snapshot } from '/js/normalise.js';
import { openChannel, swapRoster } from '/js/channel.js';

/**
 * Runs one SDK fixture through the normaliser.
 * @param {{event: string, payload: unknown, self_id?: string}} f
 */
export function normalise(f) {
  if (f.event === 'members.snapshot') {
    const p = /** @type {{members?: unknown}} */ (f.payload);
    return snapshot(p.members, f.self_id);
  }
  const fn = /** @type {Record<string, (p: any) => unknown>} */ (byEvent)[f.event];
  if (!fn) throw new Error(`no normaliser for ${f.event}`);
  return fn(f.payload);
}

/**
 * @typedef {{seqs: number[], names: string[], bytes: number, base: string | null, epoch: string}} Req
 * @typedef {(req: Req, n: number) => Response | Promise<Response>} Answer
 */

/** A 200 answer as the server gives it. */
export function ok(version = '1', render = 'full', html = '<span id="roster-count">1</span>', extra = {}) {
  return new Response(html, { status: 200, headers: { 'X-Roster-Version': version, 'X-Roster-Render': render, ...extra } });
}

/**
 * Opens a channel whose posts go to answer; everything it does is recorded.
 * @param {Answer} answer
 * @param {object} [limits] overrides of channel.js LIMITS
 * @param {number} [snapshotMs] how long getMembers() takes
 */
export function harness(answer, limits = {}, snapshotMs = 0) {
  /** @type {Req[]} */
  const requests = [];
  /** @type {string[]} */
  const swaps = [];
  /** @type {string[]} */
  const said = [];
  let snapshots = 0;
  const channel = openChannel({
    url: '/events',
    seat: 'seat-1',
    swap: (html, render) => {
      swaps.push(render);
      swapRoster(html, render);
    },
    snapshot: async () => {
      snapshots += 1;
      await new Promise((r) => setTimeout(r, snapshotMs));
      return { member_id: 'm-self', members: [{ id: 'm-self', name: 'Self' }] };
    },
    say: (msg) => said.push(msg),
    limits: { backoffBaseMs: 5, backoffMaxMs: 40, ...limits },
    fetch: async (_url, init) => {
      const raw = String(init?.body);
      const body = JSON.parse(raw);
      const headers = /** @type {Record<string, string>} */ (init?.headers);
      /** @type {Req} */
      const req = {
        seqs: body.events.map((/** @type {{seq: number}} */ e) => e.seq),
        names: body.events.map((/** @type {{name: string}} */ e) => e.name),
        bytes: new TextEncoder().encode(raw).length,
        base: headers['X-Roster-Base'] ?? null,
        epoch: body.epoch,
      };
      if (headers['X-Seat'] !== 'seat-1' || headers['Content-Type'] !== 'application/json') throw new Error('bad headers');
      requests.push(req);
      return answer(req, requests.length);
    },
  });
  return {
    channel,
    requests,
    swaps,
    said,
    snapshots: () => snapshots,
    /** Resolves once the channel has nothing queued and cond holds. */
    settle: async (cond = () => true, ms = 5000) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        if (channel.state().queued === 0 && cond()) return;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`not settled: ${JSON.stringify({ state: channel.state(), requests: requests.length, swaps, said })}`);
    },
  };
}

/** @param {number} i @param {string} [name] */
export const memberEvent = (i, name = `Member ${i}`) => ({ member: { id: `m${i}`, name, audio_muted: true } });
