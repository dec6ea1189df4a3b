// @ts-check
// Issue 16's actions that need the SDK or the seat: "Remove and block" (the
// server records the block, the SDK removes the member), asking someone to
// unmute (the server pushes the request to their page), and the answer to
// such a request (only the person's own SDK call unmutes them).

import { call, currentSeat } from './call.js';
import { errorText, reason, show } from './ui.js';

/** @typedef {import('./sdk.js').RoomSession} RoomSession */

/**
 * The actions onModerationAction handles. Remove and block is asked first
 * like Remove, so it goes through the roster panel's confirmations
 * (moderator.js), which call blockMember.
 */
export const MODERATION_ACTIONS = new Set(['ask-unmute', 'ask-video-unmute', 'accept-unmute', 'decline-unmute']);

/**
 * Posts a form to the room with the seat credential.
 * @param {string} room
 * @param {string} csrf
 * @param {string} path
 * @param {Record<string, string>} fields
 */
async function post(room, csrf, path, fields) {
  const res = await fetch(`/rooms/${encodeURIComponent(room)}/${path}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'text/html', 'HX-Request': 'true', 'X-Csrf-Token': csrf, 'X-Seat': currentSeat() },
    body: new URLSearchParams(fields),
  });
  if (!res.ok) throw new Error(errorText(await res.text()) || `HTTP ${res.status}`);
  return res.text();
}

/**
 * "Remove and block", once confirmed: the block first, so that a removed
 * guest who reloads at once is already refused; then the SDK's removal;
 * then the server's notice of it.
 * @param {RoomSession} rs
 * @param {string} memberId
 * @param {{room: string, csrf: string}} config
 */
export async function blockMember(rs, memberId, config) {
  const html = await post(config.room, config.csrf, 'block', { member: memberId });
  await rs.removeMember({ memberId });
  window.htmx?.swap('[data-sse="notice"]', html, { swapStyle: 'innerHTML' });
}

/**
 * A click on one of MODERATION_ACTIONS.
 * @param {HTMLElement} el
 * @param {string} action
 * @param {{room: string, csrf: string}} config
 */
export async function onModerationAction(el, action, config) {
  const memberId = el.dataset.memberId || '';
  const rs = call.session;
  el.setAttribute('aria-busy', 'true');
  try {
    if ((action === 'ask-unmute' || action === 'ask-video-unmute') && memberId) {
      await post(config.room, config.csrf, action, { member: memberId });
    } else if (action === 'accept-unmute' || action === 'decline-unmute') {
      const kind = el.dataset.kind === 'video' ? 'video' : 'audio';
      if (action === 'accept-unmute' && rs) {
        await (kind === 'video' ? rs.videoUnmute() : rs.audioUnmute());
      }
      const request = el.closest('[data-testid="unmute-request"]');
      const hadFocus = Boolean(request?.contains(document.activeElement));
      request?.remove();
      // Focus stays near: on the control the answer was about.
      if (hadFocus) /** @type {HTMLElement | null} */ (document.querySelector(`[data-action="self-${kind === 'video' ? 'camera' : 'mic'}"]`))?.focus();
      await post(config.room, config.csrf, 'unmute-answer', { kind, answer: action === 'accept-unmute' ? 'accept' : 'decline' });
    }
  } catch (err) {
    show('action-error', `Could not do that: ${reason(err)}.`);
  } finally {
    el.removeAttribute('aria-busy');
  }
}
