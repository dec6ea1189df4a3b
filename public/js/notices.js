// @ts-check
// The notices over the stage: what the stream pushes (a knock for
// moderators, a notice, a request to unmute) and what only the SDK tells
// this page (being muted by the host). Each is shown and said once in the
// page's live region (announce.js), which is the only one, so a screen
// reader hears it once. Notices go after a while; an unmute request stays
// until it is answered.

import { announce } from './announce.js';

/** How long a notice stays. */
const NOTICE_MS = 20000;

/** The areas whose swaps are notices, by SSE event name. */
const AREAS = new Set(['knock', 'notice', 'unmute-request']);

/** @type {Map<string, number>} */
const timers = new Map();

/** Announces what the stream swaps into the notice areas, and clears notices later. */
export function setupNotices() {
  document.body.addEventListener('htmx:sseMessage', (ev) => {
    const msg = /** @type {CustomEvent<MessageEvent>} */ (ev).detail;
    const area = ev.target;
    if (!msg || !AREAS.has(msg.type) || !(area instanceof HTMLElement)) return;
    announce(area.textContent?.replace(/\s+/g, ' ').trim() || '');
    if (msg.type !== 'unmute-request') clearLater(area);
  });
}

/**
 * Shows a notice as the server renders one (data-testid="notice"), for
 * what only the SDK tells this page, and announces it.
 * @param {string} kind names it for tests and styles ("muted")
 * @param {string} text
 */
export function showNotice(kind, text) {
  const area = document.querySelector('[data-sse="notice"]');
  announce(text);
  if (!(area instanceof HTMLElement)) return;
  const p = document.createElement('p');
  p.className = 'notice';
  p.dataset.testid = 'notice';
  p.dataset.notice = kind;
  p.textContent = text;
  area.replaceChildren(p);
  clearLater(area);
}

/** Empties every notice area, for the end of a call. */
export function clearNotices() {
  for (const area of Array.from(document.querySelectorAll('.stream-notices [data-sse]'))) area.replaceChildren();
}

/** @param {HTMLElement} area */
function clearLater(area) {
  const key = area.dataset.sse || '';
  clearTimeout(timers.get(key));
  timers.set(key, window.setTimeout(() => {
    // Not from under someone reading it with the keyboard.
    if (!area.contains(document.activeElement)) area.replaceChildren();
  }, NOTICE_MS));
}
