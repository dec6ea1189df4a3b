// @ts-check
// Names on the video: the SDK draws a transparent overlay over each
// member's place in the room's video (#sw-overlay-<member id>). Each gets
// the member's name as its accessible name and as a visible label (CSS
// shows data-name), "Ada's screen" for a screen share, from the roster
// rows the server rendered.

import { rosterName } from './ui.js';

/** Names every overlay the SDK has drawn. */
export function labelTiles() {
  const root = document.getElementById('video-root');
  if (!root) return;
  for (const el of Array.from(root.querySelectorAll('[id^="sw-overlay-"]'))) {
    const name = rosterName(el.id.slice('sw-overlay-'.length));
    if (!name) continue;
    if (el.getAttribute('data-name') !== name) el.setAttribute('data-name', name);
    if (el.getAttribute('aria-label') !== name) {
      el.setAttribute('role', 'img');
      el.setAttribute('aria-label', name);
    }
  }
}

/** Labels overlays as the SDK adds them (layout changes redraw them). */
export function setupTiles() {
  const root = document.getElementById('video-root');
  if (!root) return;
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    // A timer, not an animation frame: it runs in a tab nobody paints.
    setTimeout(() => {
      queued = false;
      labelTiles();
    }, 50);
  }).observe(root, { childList: true, subtree: true });
}
