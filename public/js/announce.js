// @ts-check
// Says what happens in the room to people who cannot watch the roster: a
// polite live region for joins, leaves, raised hands and "the host muted
// you", and for moderators a visible notice naming whoever raised a hand.
// Names come from the SDK's event, else from the roster row the server
// rendered; the island keeps no list of its own.

import { byTestId, isolate } from './ui.js';

/** @type {number} */
let clearTimer = 0;
/** @type {number} */
let handTimer = 0;

/**
 * Says text once in the polite live region. Each message is a new node,
 * so that the same sentence twice is still announced twice.
 * @param {string} text
 */
export function announce(text) {
  const region = document.getElementById('announcer');
  if (!region || !text) return;
  const p = document.createElement('p');
  p.textContent = text;
  region.append(p);
  // Old messages go, so that the region does not grow and a screen
  // reader's review of it stays short.
  while (region.childElementCount > 5) region.firstElementChild?.remove();
  clearTimeout(clearTimer);
  clearTimer = window.setTimeout(() => region.replaceChildren(), 15000);
}

/**
 * A moderator's notice: who raised a hand, shown over the stage until
 * dismissed or for 12 s, and announced.
 * @param {string} name
 */
export function handRaised(name) {
  const who = name || 'Someone';
  announce(`${isolate(who)} raised their hand.`);
  const notice = byTestId('hand-notice');
  const text = byTestId('hand-notice-text');
  if (!notice || !text) return;
  text.textContent = `${who} raised their hand.`;
  notice.hidden = false;
  clearTimeout(handTimer);
  handTimer = window.setTimeout(dismissHand, 12000);
}

/** Hides the raised-hand notice. */
export function dismissHand() {
  clearTimeout(handTimer);
  const notice = byTestId('hand-notice');
  if (!notice) return;
  // Focus would fall to <body> with the notice: move it to the stage.
  const hadFocus = notice.contains(document.activeElement);
  notice.hidden = true;
  if (hadFocus) document.getElementById('stage')?.focus();
}

/** Forgets everything said, for the end of a call. */
export function clearAnnouncements() {
  dismissHand();
}
