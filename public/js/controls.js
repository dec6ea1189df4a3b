// @ts-check
// The page's own controls: microphone, camera, screen share, raised hand,
// leave and rejoin (the SDK calls without a member id act on oneself), and
// the invite link's copy button.

import { call, leftWithoutEvent, rejoin } from './call.js';
import { restoreFocus } from './focus.js';
import { byTestId, reason, show } from './ui.js';

/** @typedef {import('./sdk.js').RoomSession} RoomSession */

/**
 * @type {Record<string, {what: string, run: (rs: RoomSession) => Promise<unknown>}>}
 */
const SELF_ACTIONS = {
  'self-mic': {
    what: 'change your microphone',
    run: async (rs) => {
      if (call.self.audioMuted) return rs.audioUnmute();
      // The event of one's own mute must not be told as the host's.
      call.mutingSelf = true;
      try {
        await rs.audioMute();
      } finally {
        setTimeout(() => { call.mutingSelf = false; }, 1500);
      }
    },
  },
  'self-camera': {
    what: 'change your camera',
    run: (rs) => (call.self.videoMuted ? rs.videoUnmute() : rs.videoMute()),
  },
  'self-hand': {
    what: 'change your raised hand',
    run: (rs) => rs.setRaisedHand({ raised: !call.self.handraised }),
  },
  'self-screenshare': { what: 'share your screen', run: toggleScreenShare },
  'self-leave': {
    what: 'leave the call',
    run: async (rs) => {
      call.leaving = true;
      await rs.leave();
      // The SDK emits room.left on leave; this covers an SDK that does not.
      leftWithoutEvent(rs);
    },
  },
};

/** @param {RoomSession} rs */
async function toggleScreenShare(rs) {
  const share = call.screenShare;
  if (share) {
    call.screenShare = null;
    renderSelfControls();
    await share.leave();
    return;
  }
  const started = await rs.startScreenShare({ audio: false, video: true });
  call.screenShare = started;
  // The browser's own "Stop sharing" ends it without us: follow along.
  started.on('room.left', () => {
    if (call.screenShare === started) call.screenShare = null;
    renderSelfControls();
  });
  renderSelfControls();
}

/**
 * A click on a self control (data-action="self-…").
 * @param {HTMLButtonElement} el
 * @param {string} action
 */
export async function onSelfAction(el, action) {
  if (action === 'self-rejoin') {
    rejoin(el);
    return;
  }
  const rs = call.session;
  const self = SELF_ACTIONS[action];
  if (!rs || !self || el.getAttribute('aria-busy') === 'true') return;
  show('action-error', '');
  el.disabled = true;
  el.setAttribute('aria-busy', 'true');
  try {
    await self.run(rs);
  } catch (err) {
    if (action === 'self-leave') call.leaving = false;
    show('action-error', `Could not ${self.what}: ${reason(err)}.`);
  } finally {
    el.disabled = false;
    el.removeAttribute('aria-busy');
    renderSelfControls();
    // Disabling the button took focus away: give it back (not after
    // Leave, whose end screen took focus on purpose).
    restoreFocus();
  }
}

/** Labels and aria-pressed of the self controls, from the self member's state. */
export function renderSelfControls() {
  /** @type {[string, boolean, string, string][]} */
  const controls = [
    ['self-mic', call.self.audioMuted, 'Unmute mic', 'Mute mic'],
    ['self-camera', call.self.videoMuted, 'Start camera', 'Stop camera'],
    ['self-screenshare', call.screenShare !== null, 'Stop sharing', 'Share screen'],
    ['self-hand', call.self.handraised, 'Lower hand', 'Raise hand'],
  ];
  for (const [action, pressed, on, off] of controls) {
    const el = document.querySelector(`[data-action="${action}"]`);
    if (!el) continue;
    // The label only: the button's icons stay.
    const label = el.querySelector('.tool-label') || el;
    label.textContent = pressed ? on : off;
    el.setAttribute('aria-pressed', String(pressed));
  }
}

/** Copies the invite link, or selects it where the clipboard is out of reach. @param {HTMLButtonElement} button */
export async function copyInvite(button) {
  const link = /** @type {HTMLAnchorElement | null} */ (byTestId('invite-link'));
  if (!link) return;
  const label = button.dataset.label || button.textContent || 'Copy link';
  button.dataset.label = label;
  try {
    await navigator.clipboard.writeText(link.href);
    button.textContent = 'Copied';
  } catch {
    // No clipboard access (insecure origin, or denied): select the link so
    // that one keystroke copies it.
    const range = document.createRange();
    range.selectNodeContents(link);
    const sel = window.getSelection();
    sel?.removeAllRanges();
    sel?.addRange(range);
    button.textContent = 'Press Ctrl+C to copy';
  }
  setTimeout(() => { button.textContent = label; }, 2000);
}
