// @ts-check
// The end of a call, one screen for every way it ends: what happened, in
// words, and only the actions that can work from there. The roster of the
// call that ended is cleared, not left under the message.

import { byTestId } from './ui.js';

/**
 * How a call ended.
 * @typedef {'left' | 'ended-self' | 'ended' | 'removed' | 'lost' | 'restarted' | 'replaced' | 'unknown'} EndKind
 */

/** @type {Record<EndKind, {title: string, text: string, rejoin?: string}>} */
const WORDS = {
  left: { title: 'You left the call', text: 'You left the call. The meeting goes on without you.', rejoin: 'Rejoin' },
  'ended-self': { title: 'Meeting ended', text: 'You ended the meeting for everyone.', rejoin: 'Start the meeting again' },
  ended: { title: 'Meeting ended', text: 'The host ended the meeting for everyone.', rejoin: 'Start the meeting again' },
  removed: { title: 'You were removed', text: 'The host removed you from the call. Ask the host if you think this was a mistake.' },
  lost: { title: 'Connection lost', text: 'The connection to the call was lost and did not come back.', rejoin: 'Rejoin' },
  restarted: {
    title: 'The server restarted',
    text: 'The server no longer knows this call: it restarted, or this page is more than a day old. The call has ended here.',
  },
  replaced: { title: 'Call moved', text: 'You joined this call again from another tab or window, which replaced this one.' },
  unknown: { title: 'Call ended', text: 'You are no longer in the call.', rejoin: 'Rejoin' },
};

/**
 * Shows the end screen and moves focus to it.
 * @param {EndKind} kind
 * @param {{rejoin: boolean, sandbox?: boolean}} opts rejoin: whether joining again can work here
 */
export function showEnd(kind, opts) {
  const words = WORDS[kind];
  const screen = byTestId('call-status');
  const title = byTestId('end-title');
  const text = byTestId('call-status-text');
  const rejoin = byTestId('rejoin');
  const reload = /** @type {HTMLAnchorElement | null} */ (byTestId('reload'));
  if (!screen || !title || !text) return;
  screen.dataset.end = kind;
  title.textContent = words.title;
  text.textContent = words.text;
  const canRejoin = opts.rejoin && Boolean(words.rejoin);
  if (rejoin) {
    rejoin.hidden = !canRejoin;
    rejoin.textContent = words.rejoin || 'Rejoin';
  }
  // A reload works after a restart only where the server kept its key; a
  // sandbox makes a new one, so its page would be a 403.
  const offerReload = (kind === 'restarted' && !opts.sandbox) || kind === 'replaced';
  if (reload) {
    reload.hidden = !offerReload;
    reload.href = location.href;
  }
  byTestId('end-sandbox-note')?.toggleAttribute('hidden', !(kind === 'restarted' && opts.sandbox));
  // The call's roster is over: none of its people, talking, recording or
  // lock state stays on the page.
  const panel = document.getElementById('roster-panel');
  if (panel) panel.replaceChildren();
  screen.hidden = false;
  screen.focus();
}
