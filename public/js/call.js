// @ts-check
// The call: a room token at Join time, the RoomSession, its events (each
// normalised and forwarded through the channel), the end of a call and the
// way back in, and the report of a join the SDK refused.

import { announce, handRaised } from './announce.js';
import { canSwapDelta, openChannel, swapRoster } from './channel.js';
import { showEnd } from './endscreen.js';
import * as wire from './normalise.js';
import { joinMedia, joinMuted, speakerId } from './prejoin.js';
import { subscriber } from './sdk.js';
import { byId, byTestId, connectionStatus, isolate, reason, rosterName, show } from './ui.js';

/** @typedef {import('./sdk.js').RoomSession} RoomSession */
/** @typedef {import('./sdk.js').ScreenShare} ScreenShare */
/** @typedef {import('./ui.js').Config} Config */
/** @typedef {import('./normalise.js').WireMember} WireMember */

/**
 * What the other modules are told. The call module does not know the panel
 * or the controls; the entry wires them in.
 * @typedef {object} Hooks
 * @property {(rs: RoomSession) => void} joined the call is on
 * @property {() => void} selfChanged the self member's state (or the screen share) changed
 * @property {() => void} swapped the roster panel was swapped
 * @property {() => void} ended the call is over for this page
 * @property {() => void} mutedByHost someone else muted this page's microphone
 */

/**
 * The call of this page. The self member's state is kept for the labels of
 * the self controls only; the roster's state is the server's HTML.
 */
export const call = {
  /** @type {RoomSession | null} */ session: null,
  selfId: '',
  self: { audioMuted: false, videoMuted: false, handraised: false },
  /** @type {ScreenShare | null} */ screenShare: null,
  leaving: false,
  /** Set while this page ends the meeting, so the end is not told as a removal. */
  ending: false,
  /** The room's session ended (room.ended came): the host ended the meeting. */
  roomEnded: false,
  /** This member was removed (its own member.left came while not leaving). */
  removed: false,
  /** Set while this page mutes itself, so that the mute is not told as the host's. */
  mutingSelf: false,
};

/** @type {Config} */
let config;
/** @type {Hooks} */
let hooks;
/** @type {import('./channel.js').Channel | null} */
let channel = null;

/**
 * @param {Config} c
 * @param {Hooks} h
 */
export function initCall(c, h) {
  config = c;
  hooks = h;
  // A moderator's rows sent anew over the stream (their ask buttons) may
  // meet an answer to this page's own post that was rendered before them.
  document.body.addEventListener('htmx:sseMessage', (ev) => {
    if (/** @type {CustomEvent<MessageEvent>} */ (ev).detail?.type === 'roster-rows') channel?.pushed();
  });
}

/**
 * Asks the server for a room token; throws an Error with a sentence for the user.
 * @param {string} user
 */
async function requestToken(user) {
  /** @type {Record<string, unknown>} */
  const body = { user, ...joinMuted() };
  if (config.invite) body.invite = config.invite;
  if (lobby.ticket) body.lobby = lobby.ticket; // issue 16: admitted from the lobby
  let res;
  try {
    res = await fetch(config.tokenURL, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-Csrf-Token': config.csrf },
      body: JSON.stringify(body),
    });
  } catch {
    throw new Error('The server could not be reached. Check your connection and try again.');
  }
  /** @type {{token?: string, seat?: string, error?: string}} */
  let data = {};
  try {
    data = await res.json();
  } catch {
    // an answer that is not JSON: handled below as a failure
  }
  if (!res.ok || !data.token || !data.seat) {
    throw new Error(data.error || `The server refused to let you join (HTTP ${res.status}). Reload the page and try again.`);
  }
  return { token: data.token, seat: data.seat };
}

/**
 * Fetches a token and joins the room with a new RoomSession. Used by Join
 * and Rejoin; fail shows a message where the caller wants it. When the
 * server says the room was missing and has been created again, it joins
 * once more (once only).
 * @param {string} user
 * @param {(msg: string) => void} fail
 * @param {boolean} [again] this is the one join after a "rejoin" answer
 * @returns {Promise<boolean>} whether the page is in the call
 */
export async function startCall(user, fail, again = false) {
  if (typeof SignalWire === 'undefined') {
    fail('The video library did not load. Reload the page to try again.');
    return false;
  }
  let grant;
  try {
    grant = await requestToken(user);
  } catch (err) {
    fail(reason(err));
    return false;
  }
  lobby.seat = grant.seat;
  const speaker = speakerId();
  // No audio/video here: 3.30 deprecates them on the constructor (and warns);
  // they go to join() below.
  const rs = new SignalWire.Video.RoomSession({
    token: grant.token,
    rootElement: byId('video-root'),
    ...(speaker ? { speakerId: speaker } : {}),
  });
  Object.assign(call, { session: rs, leaving: false, ending: false, roomEnded: false, removed: false, screenShare: null, selfId: '' });
  openEventChannel(rs, grant.seat);
  subscribe(rs); // before join(), so that room.joined is not missed
  try {
    await rs.join(joinMedia());
  } catch (err) {
    if (call.session === rs) call.session = null;
    channel?.close();
    const next = await reportJoinFailure(grant.seat, err);
    if (next?.action === 'rejoin' && !again) return startCall(user, fail, true);
    if (next?.action === 'gone' && next.location) {
      const to = new URL(next.location, location.href);
      if (to.origin === location.origin) {
        location.assign(to.href);
        return false;
      }
    }
    fail(next?.message || `Could not join the call: ${reason(err)}. Try again in a moment.`);
    return false;
  }
  if (call.session !== rs) return false;
  connectionStatus(''); // a word about the connection of an earlier call is out of date
  byId('call').hidden = false;
  byTestId('call-status')?.setAttribute('hidden', '');
  // Focus to the stage, which says what it is: a screen reader hears that
  // the call started, and Tab goes on to the panel and the toolbar.
  byId('stage').focus();
  hooks.selfChanged();
  hooks.joined(rs);
  return true;
}

/**
 * A new epoch for a new session: the server numbers this join's events
 * afresh, and the old channel's late answers are ignored.
 * @param {RoomSession} rs
 * @param {string} seat
 */
function openEventChannel(rs, seat) {
  channel?.close();
  channel = openChannel({
    url: config.eventsURL,
    seat,
    delta: canSwapDelta(),
    swap: (html, render) => {
      // The call is over: its roster is not shown again (the end screen
      // replaced it), whatever the last answers say.
      if (call.session !== rs) return;
      swapRoster(html, render);
      hooks.swapped();
    },
    snapshot: () => snapshot(rs),
    say: (msg) => show('action-error', msg),
    stopped: (status) => serverForgot(rs, status),
  });
}

/**
 * A members.snapshot, when the server asked for one or rows pushed over the
 * stream met a post in flight: the SDK's whole member list.
 * @param {RoomSession} rs
 */
async function snapshot(rs) {
  if (call.session !== rs) return null; // the call is over: nothing to repair
  const { members } = await rs.getMembers();
  if (call.session !== rs) return null;
  const data = wire.snapshot(members, call.selfId || undefined);
  noteSelf(data.members);
  return data;
}

/**
 * Queues one wire event; null data (nothing usable in the payload) is not sent.
 * @param {string} name
 * @param {object | null} data
 */
function send(name, data) {
  if (data) channel?.send(name, data);
}

/**
 * Subscribes to what the roster needs, one typed subscription per event:
 * the SDK's per-field member.updated.<field> variants and its whole-list
 * memberList.updated are left out, so that one member's change costs one
 * member's bytes whatever the room's size.
 * @param {RoomSession} rs
 */
function subscribe(rs) {
  const on = subscriber(rs, () => call.session === rs);
  on('room.joined', (p) => {
    const data = wire.roomJoined(p, sessionMemberId(rs));
    if (!data) return;
    call.selfId = data.member_id;
    if (data.members) noteSelf(data.members);
    send('room.joined', data);
  });
  on('member.joined', (p) => {
    const data = wire.memberJoined(p);
    if (data && data.member.type === 'member' && data.member.id !== call.selfId) announce(`${isolate(data.member.name || '') || 'Someone'} joined.`);
    send('member.joined', data);
  });
  on('member.updated', (p) => {
    const data = wire.memberUpdated(p);
    if (data) {
      noteSelf([data.member]);
      noteHand(data.member);
    }
    send('member.updated', data);
  });
  on('member.left', (p) => {
    const data = wire.memberLeft(p);
    if (data && data.member.id === call.selfId && !call.leaving && !call.ending && !call.roomEnded) call.removed = true;
    // The SDK's payload names the member; else the row, still there before the swap.
    const who = wire.member(p?.member);
    if (data && data.member.id !== call.selfId && (who?.type ?? 'member') === 'member') {
      announce(`${isolate(who?.name || rosterName(data.member.id)) || 'Someone'} left.`);
    }
    send('member.left', data);
  });
  on('member.talking', (p) => send('member.talking', wire.memberTalking(p)));
  on('room.updated', (p) => send('room.updated', wire.roomUpdated(p)));
  on('layout.changed', (p) => send('layout.changed', wire.layoutChanged(p)));
  on('recording.started', () => send('recording.started', wire.recordingStarted()));
  on('recording.updated', (r) => send('recording.updated', wire.recordingUpdated(r)));
  on('recording.ended', () => send('recording.ended', wire.recordingEnded()));
  on('room.left', (p) => {
    send('room.left', wire.roomLeft(p));
    callEnded('room.left', p?.reason);
  });
  on('room.ended', () => {
    call.roomEnded = true;
    send('room.ended', wire.roomEnded());
    callEnded('room.ended');
  });
  // The media connection drops and recovers by itself; say so while it
  // does, and ask the app whether it still knows this call.
  const lost = () => {
    connectionStatus('Connection lost. Reconnecting…');
    checkServer();
  };
  on('media.reconnecting', lost);
  on('media.disconnected', lost);
  on('media.connected', () => connectionStatus(''));
}

/**
 * The session's own member id, which the SDK knows once it has joined; ''
 * before (the RoomSession's proxy guards some properties until then).
 * @param {RoomSession} rs
 */
function sessionMemberId(rs) {
  try {
    return rs.memberId || '';
  } catch {
    return '';
  }
}

/**
 * Keeps the self member's state, which the self controls show.
 * @param {WireMember[]} members
 */
function noteSelf(members) {
  const self = members.find((m) => m.id === call.selfId);
  if (!self) return;
  if (self.audio_muted === true && !call.self.audioMuted && !call.mutingSelf) hooks.mutedByHost();
  if (self.audio_muted !== undefined) call.self.audioMuted = self.audio_muted;
  if (self.video_muted !== undefined) call.self.videoMuted = self.video_muted;
  if (self.handraised !== undefined) call.self.handraised = self.handraised;
  hooks.selfChanged();
}

/**
 * Tells a moderator who raised a hand (not for their own hand).
 * @param {WireMember} m
 */
function noteHand(m) {
  if (config.role !== 'moderator' || m.id === call.selfId || m.handraised !== true) return;
  const row = document.querySelector(`[data-testid="member"][data-member-id="${CSS.escape(m.id)}"]`);
  if (row instanceof HTMLElement && row.dataset.handRaised === 'true') return; // up already
  // One raise may come as more than one update before the row shows it.
  const last = handsTold.get(m.id) || 0;
  if (Date.now() - last < 5000) return;
  handsTold.set(m.id, Date.now());
  if (handsTold.size > 500) handsTold.clear();
  handRaised(m.name || rosterName(m.id));
}

/** When each member's raised hand was last told, so one raise is told once. */
/** @type {Map<string, number>} */
const handsTold = new Map();

/**
 * Sends room.left itself, for an SDK that did not emit it on leave().
 * @param {RoomSession} rs
 */
export function leftWithoutEvent(rs) {
  if (call.session !== rs) return;
  send('room.left', {});
  callEnded('room.left');
}

/**
 * The call is over for this page: the end screen says why and offers
 * what can work from there. The channel stays open until the next join,
 * so that room.left still reaches the server.
 * @param {'room.left' | 'room.ended'} name
 * @param {string} [why] the SDK's leave reason
 */
function callEnded(name, why) {
  const { leaving, ending, removed, roomEnded } = call;
  Object.assign(call, { session: null, screenShare: null });
  byId('call').hidden = true;
  hooks.ended();
  const moderator = config.role === 'moderator';
  if (leaving) {
    showEnd('left', { rejoin: true });
  } else if (ending) {
    showEnd('ended-self', { rejoin: true });
  } else if (why === 'RECONNECTION_ATTEMPT_TIMEOUT') {
    showEnd('lost', { rejoin: true });
  } else if (roomEnded || name === 'room.ended') {
    // A host may start the meeting again; a guest would be alone in it.
    showEnd('ended', { rejoin: moderator });
  } else if (removed) {
    showEnd('removed', { rejoin: false });
  } else {
    showEnd('unknown', { rejoin: true });
  }
}

/**
 * The server no longer takes this call's events: its seat is not valid
 * any more (403: the server restarted with another key, or the page is
 * older than a day) or another join replaced it (409). The call is ended
 * here, since the page could not show who is in it.
 * @param {RoomSession} rs
 * @param {number} status
 */
function serverForgot(rs, status) {
  if (call.session !== rs) return;
  Object.assign(call, { session: null, screenShare: null });
  rs.leave().catch(() => {}); // the SDK may be cut off already
  byId('call').hidden = true;
  hooks.ended();
  showEnd(status === 409 ? 'replaced' : 'restarted', { rejoin: false, sandbox: Boolean(config.sandbox) });
}

/** The seat check of checkServer: one at a time, and how many went unanswered. */
const probe = { running: false, timer: 0, misses: 0 };

/** What checkServer shows while the app does not answer. */
const NOT_ANSWERING = 'The server is not answering; retrying…';

/**
 * Asks the app whether it still honours this call's seat, after a
 * connection to it broke (the stream errored, the SDK lost its media).
 * Refused (403): the app restarted with another key (a sandbox makes a new
 * one each start), so the call ends here at once with the screen that says
 * so, rather than after the SDK's own half-minute of retries. No answer:
 * the page says so and asks again until one comes. Honoured: nothing to do
 * (a restart with the same key keeps the call).
 */
export function checkServer() {
  const rs = call.session;
  if (!rs || !lobby.seat || probe.running || probe.timer) return;
  askSeat(rs);
}

/** @param {RoomSession} rs */
async function askSeat(rs) {
  probe.running = true;
  let status = 0;
  try {
    const res = await fetch(`/rooms/${encodeURIComponent(config.room)}/seat`, {
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { 'X-Seat': lobby.seat },
    });
    status = res.status;
  } catch {
    status = 0; // not reachable
  }
  probe.running = false;
  if (call.session !== rs) return;
  if (status === 403) {
    probe.misses = 0;
    serverForgot(rs, 403);
    return;
  }
  if (status === 0 || status >= 500) {
    probe.misses += 1;
    connectionStatus(NOT_ANSWERING);
    probe.timer = window.setTimeout(() => {
      probe.timer = 0;
      if (call.session === rs) askSeat(rs);
    }, Math.min(1000 * probe.misses, 3000));
    return;
  }
  // Answered: the server is up and knows the call.
  if (probe.misses > 0 && byTestId('connection-status')?.textContent === NOT_ANSWERING) connectionStatus('');
  probe.misses = 0;
}

/**
 * Rejoins after the call ended, with the name typed before.
 * @param {HTMLButtonElement} button
 */
export async function rejoin(button) {
  const user = /** @type {HTMLInputElement} */ (byId('prejoin-name')).value.trim() || config.user;
  button.disabled = true;
  show('call-status-text', 'Joining again…');
  const muted = joinMuted();
  call.self = { audioMuted: muted.audio_muted, videoMuted: muted.video_muted, handraised: false };
  const ok = await startCall(user, (msg) => show('call-status-text', msg));
  button.disabled = false;
  if (ok) byTestId('call-status')?.setAttribute('hidden', '');
  else button.focus();
}

/**
 * @typedef {{action?: string, location?: string, message?: string}} JoinFailedAnswer
 */

/**
 * Tells the server that the SDK could not join, so that it can tell a room
 * SignalWire forgot (it issues tokens for those) from a passing failure.
 * Resolves with what to do next, or null when the server could not say.
 * @param {string} seat
 * @param {unknown} err the SDK's rejection
 * @returns {Promise<JoinFailedAnswer | null>}
 */
async function reportJoinFailure(seat, err) {
  if (!config.joinFailedURL) return null;
  try {
    const res = await fetch(config.joinFailedURL, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-Seat': seat, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ code: errorCode(err), message: reason(err).slice(0, 500) }),
    });
    if (!res.ok) return null;
    const data = await res.json();
    if (!data || typeof data !== 'object') return null;
    /** @type {JoinFailedAnswer} */
    const answer = {};
    for (const key of /** @type {const} */ (['action', 'location', 'message'])) {
      if (typeof data[key] === 'string') answer[key] = data[key];
    }
    return answer;
  } catch {
    return null; // the usual sentence is all the user gets
  }
}

/**
 * The code of an SDK error as a string: JSON-RPC errors carry a numeric or
 * string code (at the top or under jsonrpc), Errors a name.
 * @param {unknown} err
 */
function errorCode(err) {
  if (!err || typeof err !== 'object') return '';
  const o = /** @type {{code?: unknown, name?: unknown, jsonrpc?: {code?: unknown}}} */ (err);
  const code = o.code ?? o.jsonrpc?.code ?? o.name;
  return typeof code === 'string' || typeof code === 'number' ? String(code).slice(0, 64) : '';
}

// Issue 16 hooks, for lobby.js and stream.js: the lobby ticket a guest's
// token request carries once admitted, and the seat credential of the
// page's current call, which the stream and the moderators' actions use.
const lobby = { ticket: '', seat: '' };

/** Sets the lobby ticket the next token requests carry. @param {string} ticket */
export function setLobbyTicket(ticket) {
  lobby.ticket = ticket;
}

/** The lobby ticket of this page's admission, '' until a host let it in. */
export function lobbyTicket() {
  return lobby.ticket;
}

/** The seat credential of the page's latest join, '' before one. */
export function currentSeat() {
  return lobby.seat;
}
