// @ts-check
// The room page's JS island, entry module (loaded with type="module"; the
// SDK and htmx are classic scripts that come first and define the globals
// SignalWire and htmx). It wires the page's controls to the modules:
//
//   prejoin.js      camera preview, microphone meter, device pickers, name
//   devices.js      device lists, switching, plugged in or out
//   calldevices.js  the call's Devices popover
//   call.js         token, RoomSession, join/leave/rejoin, SDK events
//   endscreen.js    how the call ended, and what can be done next
//   normalise.js    SDK payloads -> the wire format (roster/WIRE.md)
//   channel.js      the event channel to the server and its swaps
//   moderator.js    the roster panel's actions and confirmations
//   controls.js     the toolbar's own controls and the invite link
//   panel.js        the side panel's tabs, and the bottom sheet on a phone
//   focus.js        focus kept on the control in use across swaps
//   freeze.js       the roster held still under the pointer or focus
//   announce.js     the live region and the raised-hand notice
//   tiles.js        names on the SDK's video tiles
//   stream.js       the page's server-sent event stream (htmx's SSE extension)
//   lobby.js        a guest's knock and wait in the lobby
//   chat.js         the chat panel: Enter, unread count, announcements
//   moderation.js   ask to unmute and its answer, remove and block
//   notices.js      the stream's notices over the stage, announced once
//
// It keeps no roster of its own: the server's HTML is the only list of members.

import { clearAnnouncements, dismissHand } from './announce.js';
import { setupCallDevices, startCallDevices } from './calldevices.js';
import { checkServer, currentSeat, initCall, startCall } from './call.js';
import { setupChat } from './chat.js';
import { knockThenJoin } from './lobby.js';
import { MODERATION_ACTIONS, onModerationAction } from './moderation.js';
import { clearNotices, setupNotices, showNotice } from './notices.js';
import { openSeatStream, stopStream } from './stream.js';
import { copyInvite, onSelfAction, renderSelfControls } from './controls.js';
import { restoreFocus, setupFocus } from './focus.js';
import { holdOrder, releaseOrder, setupFreeze } from './freeze.js';
import { cancelConfirm, loadLayouts, onLayoutChange, onPanelClick, resetPanel, restorePanelState } from './moderator.js';
import { apply as applyPanel, isOpen, onPanelKey, onPanelUI, setupPanel } from './panel.js';
import { canUseMedia, checkedName, setupPrejoin, startPreview, stopPreview } from './prejoin.js';
import { labelTiles, setupTiles } from './tiles.js';
import { byId, byTestId, readConfig, show } from './ui.js';

const config = readConfig();
const isModerator = config.role === 'moderator';
const joinButton = /** @type {HTMLButtonElement} */ (byTestId('join'));
const chatPanel = byTestId('chat');
/** Whether the chat shows now: its tab picked and the panel open. */
const chatVisible = () => isOpen() && !byId('panel-chat').hidden;
const chat = chatPanel && setupChat({
  panel: chatPanel,
  badge: document.getElementById('tab-chat-badge'),
  visible: chatVisible,
  self: () => /** @type {HTMLInputElement} */ (byId('prejoin-name')).value.trim(),
});
/** The chat was just shown: its messages are read. */
const chatShown = () => {
  if (chat && chatVisible()) chat.seen();
};

initCall(config, {
  joined: (rs) => {
    if (isModerator) loadLayouts(rs);
    startCallDevices();
    // The push channel: chat, lobby, notices; it needs the seat of this join.
    openSeatStream(/** @type {Element} */ (byTestId('room-page')), { room: config.room, seat: currentSeat(), csrf: config.csrf });
  },
  mutedByHost: () => showNotice('muted', 'The host muted your microphone.'),
  selfChanged: renderSelfControls,
  swapped: () => {
    applyPanel();
    restorePanelState();
    holdOrder();
    labelTiles();
    restoreFocus();
  },
  ended: () => {
    stopStream();
    clearNotices();
    resetPanel();
    releaseOrder();
    clearAnnouncements();
    renderSelfControls();
    document.querySelectorAll('[popover]').forEach((p) => /** @type {HTMLElement} */ (p).hidePopover?.());
  },
});

async function join() {
  show('join-error', '');
  const user = checkedName();
  if (!user) return;
  joinButton.disabled = true;
  stopPreview();
  const fail = (/** @type {string} */ msg) => show('join-error', msg);
  // A guest knocks first: the lobby decides, and only then is there a token.
  const ok = config.invite
    ? await knockThenJoin({ room: config.room, user, invite: config.invite, csrf: config.csrf, area: byId('lobby-area'), join: () => startCall(user, fail), fail })
    : await startCall(user, fail);
  if (ok) {
    byId('prejoin').hidden = true;
  } else {
    joinButton.disabled = false;
    joinButton.focus();
    if (canUseMedia()) startPreview();
  }
}

document.addEventListener('click', (ev) => {
  const target = ev.target instanceof Element ? ev.target : null;
  const ui = target?.closest('[data-ui]');
  if (ui instanceof HTMLElement) {
    if (ui.dataset.ui === 'dismiss-hand') dismissHand();
    else onPanelUI(ui);
    chatShown();
    return;
  }
  const el = target?.closest('[data-action]');
  if (!(el instanceof HTMLButtonElement) || el.disabled) return;
  const action = el.dataset.action || '';
  if (action.startsWith('self-')) {
    onSelfAction(el, action);
  } else if (action === 'copy-invite') {
    copyInvite(el);
  } else if (MODERATION_ACTIONS.has(action)) {
    onModerationAction(el, action, config);
  } else if (el.closest('#roster-panel')) {
    // The server renders these buttons for moderators only; SignalWire
    // checks every call against the token's permissions, so a guest page
    // someone tampered with gets its refusal, shown like any other.
    onPanelClick(el, action);
  }
});

document.addEventListener('keydown', (ev) => {
  if (onPanelKey(ev)) {
    ev.preventDefault();
    chatShown();
    return;
  }
  // Escape withdraws an open confirmation (Remove, End meeting).
  if (ev.key === 'Escape' && cancelConfirm()) ev.preventDefault();
});

document.addEventListener('change', (ev) => {
  const el = ev.target;
  if (isModerator && el instanceof HTMLSelectElement && el.dataset.action === 'set-layout' && el.closest('#roster-panel')) {
    onLayoutChange(el);
  }
});

// The stream broke (the server went away, or refused it on reconnecting):
// the call asks the app whether it still knows this call.
document.body.addEventListener('htmx:sseError', () => checkServer());

joinButton.addEventListener('click', () => join());
// Enter in the name field joins, as a form would.
byId('prejoin-name').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !joinButton.disabled) join();
});

setupFocus();
setupPanel();
setupNotices();
setupFreeze();
setupTiles();
setupCallDevices();
setupPrejoin();
// Join does nothing until this point; the mark lets tests (and styles) know.
byTestId('room-page')?.setAttribute('data-island', 'ready');
