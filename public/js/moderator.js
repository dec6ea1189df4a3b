// @ts-check
// The moderator panel's actions: per-member and room-wide SDK calls, with
// their buttons pending and in-page confirmations. The panel itself is the
// server's HTML and is swapped often, so the UI state it cannot hold (which
// buttons are pending, which confirmation is open) lives here and is put
// back after every swap.

import { call } from './call.js';
import { focusOn, restoreFocus } from './focus.js';
import { blockMember } from './moderation.js';
import { isolate, readConfig, reason, rosterName, show } from './ui.js';

/** @typedef {import('./sdk.js').RoomSession} RoomSession */

const config = readConfig();

const panel = {
  /** Keys (action + member id) of SDK calls in progress. */
  /** @type {Set<string>} */ pending: new Set(),
  /** The confirmation button currently offered, e.g. "confirm-remove:<id>". */
  confirm: '',
  /** The layout names, once per join; the picker is rebuilt from them after each swap. */
  /** @type {string[] | null} */ layouts: null,
  /** The recording this page started, which Stop recording stops. */
  /** @type {{stop(): Promise<unknown>} | null} */ recording: null,
};

/**
 * The questions asked in the page: the button that asks, the one that
 * confirms and the one that cancels (member rows carry data-member-id).
 */
const ASKS = [
  { ask: 'remove', confirm: 'confirm-remove', cancel: 'cancel-remove' },
  { ask: 'remove-block', confirm: 'confirm-block', cancel: 'cancel-block' },
  { ask: 'end-meeting', confirm: 'confirm-end', cancel: 'cancel-end' },
];
const askOf = (/** @type {string} */ a) => ASKS.find((q) => q.ask === a || q.confirm === a || q.cancel === a);

/**
 * The roster panel's button for an action, for one member or (with no id) the room.
 * @param {string} action
 * @param {string} [memberId]
 */
function panelButton(action, memberId) {
  const member = memberId ? `[data-member-id="${CSS.escape(memberId)}"]` : '';
  return /** @type {HTMLElement | null} */ (document.querySelector(`#roster-panel [data-action="${action}"]${member}`));
}

/**
 * Per-member actions: what the sentence of a failure calls it, and the SDK call.
 * @type {Record<string, {verb: string, run: (rs: RoomSession, memberId: string) => Promise<unknown>}>}
 */
const MEMBER_ACTIONS = {
  'audio-mute': { verb: 'mute', run: (rs, memberId) => rs.audioMute({ memberId }) },
  'audio-unmute': { verb: 'unmute', run: (rs, memberId) => rs.audioUnmute({ memberId }) },
  'video-mute': { verb: 'stop the video of', run: (rs, memberId) => rs.videoMute({ memberId }) },
  'video-unmute': { verb: 'start the video of', run: (rs, memberId) => rs.videoUnmute({ memberId }) },
  'lower-hand': { verb: 'lower the hand of', run: (rs, memberId) => rs.setRaisedHand({ memberId, raised: false }) },
  'confirm-remove': { verb: 'remove', run: (rs, memberId) => rs.removeMember({ memberId }) },
  'confirm-block': { verb: 'remove and block', run: (rs, memberId) => blockMember(rs, memberId, config) },
};

/**
 * Room-wide actions, with the words for a failure.
 * @type {Record<string, {what: string, run: (rs: RoomSession) => Promise<unknown>}>}
 */
const ROOM_ACTIONS = {
  'mute-all': { what: 'mute everyone', run: (rs) => forEveryoneElse(rs, (memberId) => rs.audioMute({ memberId })) },
  'video-mute-all': { what: "stop everyone's video", run: (rs) => forEveryoneElse(rs, (memberId) => rs.videoMute({ memberId })) },
  lock: { what: 'lock the room', run: (rs) => rs.lock() },
  unlock: { what: 'unlock the room', run: (rs) => rs.unlock() },
  'start-recording': { what: 'start recording', run: async (rs) => { panel.recording = await rs.startRecording(); } },
  'stop-recording': { what: 'stop recording', run: stopRecording },
  'hide-video-muted': { what: 'hide members without video', run: (rs) => rs.setHideVideoMuted(true) },
  'show-video-muted': { what: 'show members without video', run: (rs) => rs.setHideVideoMuted(false) },
  'confirm-end': { what: 'end the meeting', run: endForAll },
};

/**
 * Runs fn for every person in the room except this page's own member. The
 * list comes from the SDK (snake_case at runtime, camelCase in its types),
 * so both spellings are read.
 * @param {RoomSession} rs
 * @param {(id: string) => Promise<unknown>} fn
 */
async function forEveryoneElse(rs, fn) {
  const { members } = await rs.getMembers();
  const people = (members || [])
    .map((m) => /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (m)))
    .filter((m) => typeof m.id === 'string' && m.type === 'member' && m.id !== call.selfId);
  const results = await Promise.allSettled(people.map((m) => fn(String(m.id))));
  const failed = people.filter((_, i) => results[i].status === 'rejected').map((m) => (typeof m.name === 'string' && m.name) || 'someone');
  const first = results.find((r) => r.status === 'rejected');
  if (first) throw new Error(`${reason(/** @type {PromiseRejectedResult} */ (first).reason)} (for ${failed.join(', ')})`);
}

/** @param {RoomSession} rs */
async function endForAll(rs) {
  call.ending = true;
  try {
    await rs.removeAllMembers();
  } catch (err) {
    call.ending = false;
    throw err;
  }
}

/** Stops the recording this page started, else any recording in progress. @param {RoomSession} rs */
async function stopRecording(rs) {
  if (panel.recording) {
    await panel.recording.stop();
    panel.recording = null;
    return;
  }
  const { recordings } = await rs.getRecordings();
  const active = (recordings || []).filter((r) => r.state === 'recording' || r.state === 'paused');
  if (active.length === 0) throw new Error('no recording is in progress');
  await Promise.all(active.map((r) => r.stop()));
}

/** The name shown in the roster for a member id, for messages. @param {string} id */
function memberName(id) {
  return isolate(rosterName(id)) || 'this participant';
}

/**
 * A click on a panel button.
 * @param {HTMLElement} el
 * @param {string} action
 */
export function onPanelClick(el, action) {
  const memberId = el.dataset.memberId || '';
  const rs = call.session;
  if (!rs) return;
  const q = askOf(action);
  if (q && action === q.ask) {
    // Ask in the page, not with a native dialog that blocks everything;
    // focus moves to the question's answer, and Escape or Cancel takes it back.
    panel.confirm = `${q.confirm}:${memberId}`;
    restorePanelState();
    focusOn(confirmButton());
    return;
  }
  if (q && action === q.cancel) {
    cancelConfirm();
    return;
  }
  const member = MEMBER_ACTIONS[action];
  if (member && memberId) {
    panel.confirm = '';
    run(`${action}:${memberId}`, () => member.run(rs, memberId), (err) => `Could not ${member.verb} ${memberName(memberId)}: ${reason(err)}.`);
    return;
  }
  const room = ROOM_ACTIONS[action];
  if (room) {
    if (action === 'confirm-end') panel.confirm = '';
    run(`${action}:`, () => room.run(rs), (err) => `Could not ${room.what}: ${reason(err)}.`);
  }
}

/** The confirmation button offered now, if any. */
function confirmButton() {
  const [confirmAction, confirmId] = panel.confirm.split(':');
  return confirmAction ? panelButton(confirmAction, confirmId) : null;
}

/**
 * Withdraws the open confirmation and returns focus to the button that
 * asked it. Returns whether one was open (Escape uses it).
 */
export function cancelConfirm() {
  if (!panel.confirm) return false;
  const [confirmAction, confirmId] = panel.confirm.split(':');
  panel.confirm = '';
  restorePanelState();
  focusOn(panelButton(askOf(confirmAction)?.ask || '', confirmId));
  return true;
}

/** A new layout picked. @param {HTMLSelectElement} select */
export function onLayoutChange(select) {
  const rs = call.session;
  const name = select.value;
  if (!rs || !name) return;
  run('set-layout:', () => rs.setLayout({ name }), (err) => `Could not change the layout to ${layoutName(name)}: ${reason(err)}.`);
}

/**
 * Runs an SDK call with its button pending. On failure it shows a message
 * and changes nothing else: the roster only changes when the resulting
 * event comes back and the server renders it.
 * @param {string} key action and member id
 * @param {() => Promise<unknown>} fn
 * @param {(err: unknown) => string} message
 */
async function run(key, fn, message) {
  if (panel.pending.has(key)) return;
  show('action-error', '');
  panel.pending.add(key);
  restorePanelState();
  try {
    await fn();
  } catch (err) {
    show('action-error', message(err));
  } finally {
    panel.pending.delete(key);
    restorePanelState();
  }
}

/** Re-applies pending and confirmation state to the buttons the last swap replaced. */
export function restorePanelState() {
  const root = document.getElementById('roster-panel');
  if (!root) return;
  const [confirmAction, confirmId = ''] = panel.confirm.split(':');
  const asking = confirmAction ? panelButton(confirmAction, confirmId) : null;
  if (confirmAction && !asking) panel.confirm = ''; // the member left meanwhile
  const open = asking ? askOf(confirmAction) : undefined;
  // One pass over the panel's controls: pending ones are disabled, and of
  // the questions only the open one's Confirm and Cancel show, in place of
  // the button that asked it.
  for (const el of Array.from(root.querySelectorAll('[data-action]'))) {
    if (!(el instanceof HTMLElement)) continue;
    const action = el.dataset.action || '';
    const memberId = el.dataset.memberId || '';
    const q = askOf(action);
    if (q) {
      const ofOpen = open === q && memberId === confirmId;
      if (action === q.confirm) el.hidden = el !== asking;
      else if (action === q.cancel) el.hidden = !ofOpen;
      else el.hidden = ofOpen;
    }
    if (!(el instanceof HTMLButtonElement || el instanceof HTMLSelectElement)) continue;
    const busy = panel.pending.has(`${action}:${memberId}`) || Boolean(q && q.ask === action && panel.pending.has(`${q.confirm}:${memberId}`));
    el.disabled = busy;
    if (busy) el.setAttribute('aria-busy', 'true');
    else el.removeAttribute('aria-busy');
  }
  fillLayouts();
  restoreFocus();
}

/** Caches the layout names once per join. @param {RoomSession} rs */
export async function loadLayouts(rs) {
  panel.recording = null;
  try {
    const { layouts } = await rs.getLayouts();
    if (call.session !== rs) return;
    panel.layouts = Array.isArray(layouts) ? layouts.filter((l) => typeof l === 'string') : [];
    fillLayouts();
  } catch {
    panel.layouts = null; // the picker keeps the current layout only
  }
}

/** Forgets what belonged to the call that ended. */
export function resetPanel() {
  panel.pending.clear();
  panel.confirm = '';
}

/**
 * A layout id in words, from the table the server put in the page config (the
 * same one its "Layout:" line uses); an unknown id reads as words too.
 * @param {string} id
 */
function layoutName(id) {
  const known = config.layoutNames?.[id];
  if (known) return known;
  const words = id.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Lists the cached layouts in the picker, keeping the server's current one selected. */
function fillLayouts() {
  const select = document.querySelector('#roster-panel select[data-action="set-layout"]');
  if (!(select instanceof HTMLSelectElement) || !panel.layouts) return;
  const current = select.value;
  const names = panel.layouts.includes(current) || !current ? [...panel.layouts] : [current, ...panel.layouts];
  const options = names.map((n) => new Option(layoutName(n), n, false, n === current));
  if (!current) options.unshift(new Option('Choose a layout', '', true, true));
  select.replaceChildren(...options);
  select.value = current;
}
