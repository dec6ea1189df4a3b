// @ts-check
// The room page's JS island, entry module (loaded with type="module"; the
// SDK and htmx are classic scripts that come first and define the globals
// SignalWire and htmx). It wires the page's buttons to the modules:
//
//   prejoin.js    camera preview, microphone meter, device pickers, name
//   call.js       token, RoomSession, join/leave/rejoin, SDK events
//   normalise.js  SDK payloads -> the wire format (roster/WIRE.md)
//   channel.js    the event channel to the server and its swaps
//   moderator.js  the roster panel's actions
//   controls.js   the page's own controls and the invite link
//
// It keeps no roster of its own: the server's HTML is the only list of members.

import { initCall, startCall } from './call.js';
import { copyInvite, onSelfAction, renderSelfControls } from './controls.js';
import { loadLayouts, onLayoutChange, onPanelClick, resetPanel, restorePanelState } from './moderator.js';
import { canUseMedia, checkedName, setupPrejoin, startPreview, stopPreview } from './prejoin.js';
import { byId, byTestId, readConfig, show } from './ui.js';

const config = readConfig();
const isModerator = config.role === 'moderator';
const joinButton = /** @type {HTMLButtonElement} */ (byTestId('join'));

initCall(config, {
  joined: (rs) => {
    if (isModerator) loadLayouts(rs);
  },
  selfChanged: renderSelfControls,
  swapped: restorePanelState,
  ended: () => {
    resetPanel();
    renderSelfControls();
  },
});

async function join() {
  show('join-error', '');
  const user = checkedName();
  if (!user) return;
  joinButton.disabled = true;
  stopPreview();
  const ok = await startCall(user, (msg) => show('join-error', msg));
  if (ok) {
    byId('prejoin').hidden = true;
  } else {
    joinButton.disabled = false;
    if (canUseMedia()) startPreview();
  }
}

document.addEventListener('click', (ev) => {
  const el = ev.target instanceof Element ? ev.target.closest('[data-action]') : null;
  if (!(el instanceof HTMLButtonElement) || el.disabled) return;
  const action = el.dataset.action || '';
  if (action.startsWith('self-')) {
    onSelfAction(el, action);
  } else if (action === 'copy-invite') {
    copyInvite(el);
  } else if (el.closest('#roster-panel')) {
    // The server renders these buttons for moderators only; SignalWire
    // checks every call against the token's permissions, so a guest page
    // someone tampered with gets its refusal, shown like any other.
    onPanelClick(el, action);
  }
});

document.addEventListener('change', (ev) => {
  const el = ev.target;
  if (isModerator && el instanceof HTMLSelectElement && el.dataset.action === 'set-layout' && el.closest('#roster-panel')) {
    onLayoutChange(el);
  }
});

joinButton.addEventListener('click', () => join());
// Enter in the name field joins, as a form would.
byId('prejoin-name').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !joinButton.disabled) join();
});

setupPrejoin();
// Join does nothing until this point; the mark lets tests (and styles) know.
byTestId('room-page')?.setAttribute('data-island', 'ready');
