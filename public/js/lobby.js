// @ts-check
// The guest's lobby (issue 16). Join knocks first: the server answers the
// waiting-room fragment, whose data-lobby-state says what to do. "admitted"
// (the lobby is off, or a host let the guest in) hands the lobby ticket to
// the token request and joins with no click; "waiting" and "no-host" wait,
// while htmx's SSE extension swaps the status the stream sends; "denied"
// stays on the page. No room token ever comes over the stream: the ticket
// only lets the token endpoint issue one once the server says admitted.

import { lobbyTicket, setLobbyTicket } from './call.js';
import { install, keepLobbyStream, stopStream } from './stream.js';
import { errorText } from './ui.js';

/**
 * @typedef {object} KnockOptions
 * @property {string} room
 * @property {string} user
 * @property {{room: string, exp: number, sig: string, v?: number}} invite
 * @property {string} csrf
 * @property {Element} area where the waiting room is shown
 * @property {() => Promise<boolean>} join starts the call (call.js startCall)
 * @property {(msg: string) => void} fail shows a message near Join
 */

/**
 * Knocks and waits. Resolves true once the call is joined, false when the
 * guest was denied or the knock failed.
 * @param {KnockOptions} o
 * @returns {Promise<boolean>}
 */
export async function knockThenJoin(o) {
  // Admitted once already (the join failed after, or the call ended): the
  // ticket still says so, and the guest does not wait again.
  if (lobbyTicket()) return o.join();
  let res;
  try {
    res = await fetch(`/rooms/${encodeURIComponent(o.room)}/lobby`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'text/html', 'HX-Request': 'true', 'X-Csrf-Token': o.csrf },
      body: JSON.stringify({ user: o.user, invite: o.invite }),
    });
  } catch {
    o.fail('The server could not be reached. Check your connection and try again.');
    return false;
  }
  const html = await res.text();
  if (!res.ok && res.status !== 403) {
    o.fail(errorText(html).slice(0, 300) || `The server refused to let you in (HTTP ${res.status}).`);
    return false;
  }
  // The server's fragment; swapping it through htmx connects its stream,
  // through stream.js's EventSource maker.
  install();
  window.htmx?.swap(o.area, html, { swapStyle: 'innerHTML' });
  o.area.removeAttribute('hidden');
  const box = o.area.querySelector('[data-testid="lobby-waiting"]');
  const ticket = box?.getAttribute('data-lobby-ticket') || '';
  const stream = box?.getAttribute('sse-connect') || '';
  if (stream) keepLobbyStream(o.room, ticket, o.csrf, stream);
  const decided = await decision(o.area, box?.getAttribute('data-lobby-state') || 'denied');
  stopStream();
  // The waiting room's stream is over: its element leaves htmx's hands
  // (a processed sse-connect would reconnect), its words stay.
  if (box) {
    box.removeAttribute('sse-connect');
    box.removeAttribute('hx-ext');
    box.querySelector('[sse-swap]')?.removeAttribute('sse-swap');
    window.htmx?.process(box);
  }
  if (decided !== 'admitted') return false;
  setLobbyTicket(ticket);
  const ok = await o.join();
  // The waiting room is over either way; a failed join says why near Join.
  o.area.replaceChildren();
  o.area.setAttribute('hidden', '');
  return ok;
}

/**
 * Waits until the lobby's status says admitted or denied.
 * @param {Element} area
 * @param {string} first the state of the knock's answer
 * @returns {Promise<string>}
 */
function decision(area, first) {
  if (first === 'admitted' || first === 'denied') return Promise.resolve(first);
  return new Promise((resolve) => {
    const seen = () => {
      const s = area.querySelector('#lobby-status [data-lobby-state]')?.getAttribute('data-lobby-state') || '';
      if (s === 'admitted' || s === 'denied') {
        observer.disconnect();
        resolve(s);
      }
    };
    const observer = new MutationObserver(seen);
    observer.observe(area, { childList: true, subtree: true });
    seen();
  });
}
