// @ts-check
// The room page's JS island. It drives the SignalWire SDK (or the simulator
// in sandbox mode), forwards the SDK's events to the server, and puts the
// roster fragment the server answers with into #roster-panel. It keeps no
// roster of its own: the server's HTML is the only list of members. What it
// does keep is UI state (pending buttons, an open confirmation) and the
// little it needs to drive the SDK (the session, the seat, the event queue).

/** @typedef {import('@signalwire/js').Video.RoomSession} RoomSession */
/** @typedef {import('@signalwire/js').RoomSessionScreenShare} ScreenShare */
/** @typedef {{seq: number, name: string, data: unknown}} QueuedEvent */
/** @typedef {{audio: boolean, video: boolean}} MediaAvailability */

/**
 * The island's configuration, from the JSON script tag the server renders.
 * @type {{room: string, role: 'moderator' | 'guest', user: string, tokenURL: string,
 *   eventsURL: string, csrf: string, invite?: {room: string, exp: number, sig: string}}}
 */
const config = JSON.parse(byId('room-config').textContent || '{}');
const isModerator = config.role === 'moderator';

// Event forwarding limits. The window batches bursts (a join brings many
// events at once) while keeping an SDK event's way to the roster short.
const BATCH_WINDOW_MS = 30;
const MAX_BATCH = 200; // the server's MaxBatchEvents
const MAX_QUEUE = 500; // older events are dropped; the server then asks for a snapshot
const MAX_BACKOFF_MS = 15000;

/** UI state and the SDK objects of the current call. */
const state = {
  /** @type {RoomSession | null} */ session: null,
  /** @type {ScreenShare | null} */ screenShare: null,
  /** The recording this page started, which Stop recording stops. */
  /** @type {{stop(): Promise<unknown>} | null} */ recording: null,
  selfId: '',
  /** The self member's state, for the labels of the self controls only. */
  self: { audioMuted: false, videoMuted: false, handraised: false },
  leaving: false,
  /** Set while this page ends the meeting, so the end is not told as a removal. */
  ending: false,
  /** @type {string[] | null} */ layouts: null,
  /** Keys (action + member id) of SDK calls in progress. */
  /** @type {Set<string>} */ pending: new Set(),
  /** The confirmation button currently offered, e.g. "confirm-remove:<id>". */
  confirm: '',
  /** What Join asks the SDK for: all until the preview finds something missing. */
  /** @type {MediaAvailability} */ media: { audio: true, video: true },
  /** @type {MediaStream | null} */ preview: null,
  /** Counts preview starts and stops, so that a late stream is stopped, not shown. */
  previewGen: 0,
  /** @type {AudioContext | null} */ audioCtx: null,
  meterTimer: 0,
};

/** The event channel to the server for one join (one epoch). */
const channel = {
  seat: '',
  epoch: '',
  seq: 0,
  /** @type {QueuedEvent[]} */ queue: [],
  inFlight: false,
  timer: 0,
  failures: 0,
  stopped: false,
  /** Seq of a snapshot not yet acknowledged, so one request is not answered twice. */
  snapshotSeq: 0,
};

// ---------------------------------------------------------------- helpers

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`room.js: #${id} is missing from the page`);
  return el;
}

/** @param {string} testid @returns {HTMLElement | null} */
function byTestId(testid) {
  return document.querySelector(`[data-testid="${testid}"]`);
}

/** Shows text in an element (or hides it when text is empty). */
function show(/** @type {string} */ testid, /** @type {string} */ text) {
  const el = byTestId(testid);
  if (!el) return;
  el.textContent = text;
  el.hidden = text === '';
}

/** A sentence for a failure, from an Error, an SDK error object or anything. */
function reason(/** @type {unknown} */ err) {
  if (err && typeof err === 'object' && 'message' in err && typeof err.message === 'string' && err.message) {
    return err.message;
  }
  return typeof err === 'string' && err ? err : 'unknown error';
}

/** Random hex, also on insecure origins where crypto.randomUUID is missing. */
function randomId() {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** @param {unknown} v */
const str = (v) => (typeof v === 'string' ? v : undefined);
/** @param {unknown} v */
const bool = (v) => (typeof v === 'boolean' ? v : undefined);

// ---------------------------------------------------------------- pre-join

const preview = /** @type {HTMLVideoElement} */ (byId('preview'));
const cameraSelect = /** @type {HTMLSelectElement} */ (byId('camera-select'));
const micSelect = /** @type {HTMLSelectElement} */ (byId('mic-select'));
const speakerSelect = /** @type {HTMLSelectElement} */ (byId('speaker-select'));
const cameraOff = /** @type {HTMLInputElement} */ (byId('join-camera-off'));
const micOff = /** @type {HTMLInputElement} */ (byId('join-mic-off'));
const joinButton = /** @type {HTMLButtonElement} */ (byTestId('join'));
const speakerSupported = 'setSinkId' in HTMLMediaElement.prototype;

function setupPrejoin() {
  if (!speakerSupported) {
    speakerSelect.hidden = true;
    const label = byTestId('speaker-label');
    if (label) label.hidden = true;
  }
  if (!window.isSecureContext || !navigator.mediaDevices) {
    // Browsers share camera and microphone only with secure origins; asking
    // would fail anyway, so explain instead and let people join to listen.
    state.media = { audio: false, video: false };
    byTestId('insecure-origin')?.removeAttribute('hidden');
    byTestId('preview-off')?.removeAttribute('hidden');
    return;
  }
  for (const el of [cameraSelect, micSelect, cameraOff, micOff]) {
    el.addEventListener('change', () => startPreview());
  }
  startPreview();
}

/** The constraint for one kind of device: the picked one, or any. */
function constraint(/** @type {HTMLSelectElement} */ select) {
  return select.value ? { deviceId: { exact: select.value } } : true;
}

/** (Re)starts the camera preview and the microphone meter for what is on. */
async function startPreview() {
  stopPreview();
  const gen = state.previewGen;
  const wantVideo = !cameraOff.checked;
  const wantAudio = !micOff.checked;
  byTestId('preview-off')?.toggleAttribute('hidden', wantVideo);
  if (!wantVideo && !wantAudio) return;
  let stream;
  try {
    stream = await getMedia(wantVideo, wantAudio);
  } catch (err) {
    mediaError(err, wantVideo, wantAudio);
    return;
  }
  if (gen !== state.previewGen) {
    // Join (or another change) came first: this stream is not wanted.
    stream.getTracks().forEach((t) => t.stop());
    return;
  }
  state.preview = stream;
  if (stream.getVideoTracks().length > 0) {
    preview.srcObject = stream;
  } else {
    byTestId('preview-off')?.removeAttribute('hidden');
  }
  if (stream.getAudioTracks().length > 0) startMeter(stream);
  await fillDevices();
}

/**
 * Asks for both kinds at once (one prompt). When one is missing, asks for
 * each alone, so that a laptop without a camera still gets its microphone.
 * @param {boolean} video
 * @param {boolean} audio
 */
async function getMedia(video, audio) {
  const ask = (/** @type {boolean} */ v, /** @type {boolean} */ a) =>
    navigator.mediaDevices.getUserMedia({ video: v && constraint(cameraSelect), audio: a && constraint(micSelect) });
  try {
    const s = await ask(video, audio);
    show('media-error', '');
    return s;
  } catch (err) {
    if (!(err instanceof DOMException) || err.name === 'NotAllowedError' || !(video && audio)) throw err;
  }
  for (const v of [true, false]) {
    try {
      const s = await ask(v, !v);
      state.media = { video: v, audio: !v };
      show('media-error', v ? 'No microphone was found. You can join without one.' : 'No camera was found. You can join without one.');
      return s;
    } catch {
      // try the other kind
    }
  }
  throw new DOMException('no camera or microphone', 'NotFoundError');
}

/** Explains why media failed, and notes that Join goes without it. */
function mediaError(/** @type {unknown} */ err, /** @type {boolean} */ video, /** @type {boolean} */ audio) {
  const name = err instanceof DOMException ? err.name : '';
  state.media = { video: video ? false : state.media.video, audio: audio ? false : state.media.audio };
  let msg = `Your camera or microphone could not be started (${reason(err)}). You can still join.`;
  if (name === 'NotAllowedError') {
    state.media = { audio: false, video: false };
    msg = 'Your browser blocked the camera and microphone. Allow them in the site settings (the icon in the address bar) and reload, or join without them.';
  } else if (name === 'NotFoundError' || name === 'OverconstrainedError') {
    msg = 'No camera or microphone was found. Connect one and reload, or join without them.';
  } else if (name === 'NotReadableError') {
    msg = 'Your camera or microphone is in use by another application. Close it and reload, or join without them.';
  }
  show('media-error', msg);
  byTestId('preview-off')?.removeAttribute('hidden');
}

function stopPreview() {
  state.previewGen += 1;
  state.preview?.getTracks().forEach((t) => t.stop());
  state.preview = null;
  preview.srcObject = null;
  clearInterval(state.meterTimer);
  state.meterTimer = 0;
  state.audioCtx?.close().catch(() => {});
  state.audioCtx = null;
  /** @type {HTMLMeterElement} */ (byId('mic-level')).value = 0;
}

/** Shows the microphone's level, so people see that they are heard. */
function startMeter(/** @type {MediaStream} */ stream) {
  try {
    const ctx = new AudioContext();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 512;
    ctx.createMediaStreamSource(stream).connect(analyser);
    const buf = new Float32Array(analyser.fftSize);
    const meter = /** @type {HTMLMeterElement} */ (byId('mic-level'));
    state.audioCtx = ctx;
    // An interval, not animation frames: it keeps running in a hidden tab.
    state.meterTimer = window.setInterval(() => {
      analyser.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const x of buf) sum += x * x;
      meter.value = Math.min(1, Math.sqrt(sum / buf.length) * 4);
    }, 100);
  } catch {
    // No Web Audio: the meter stays at zero, which costs nothing else.
  }
}

/** Fills the device pickers; labels are only known once access is granted. */
async function fillDevices() {
  let devices;
  try {
    devices = await navigator.mediaDevices.enumerateDevices();
  } catch {
    return;
  }
  /** @type {[HTMLSelectElement, MediaDeviceKind, string][]} */
  const pickers = [[cameraSelect, 'videoinput', 'Camera'], [micSelect, 'audioinput', 'Microphone'], [speakerSelect, 'audiooutput', 'Speaker']];
  for (const [select, kind, noun] of pickers) {
    const current = select.value;
    const options = devices
      .filter((d) => d.kind === kind && d.deviceId)
      .map((d, i) => new Option(d.label || `${noun} ${i + 1}`, d.deviceId));
    if (options.length === 0) continue;
    select.replaceChildren(...options);
    if (current && options.some((o) => o.value === current)) select.value = current;
  }
}

/** The user's name as typed, or '' after showing why it cannot be used. */
function checkedName() {
  const input = /** @type {HTMLInputElement} */ (byId('prejoin-name'));
  const name = input.value.trim();
  const n = [...name].length;
  if (n >= 1 && n <= 100) return name;
  show('join-error', n === 0 ? 'Enter your name to join.' : 'Your name can have at most 100 characters.');
  input.focus();
  return '';
}

// ---------------------------------------------------------------- joining

/** Asks the server for a room token; throws an Error with a sentence for the user. */
async function requestToken(/** @type {string} */ user) {
  /** @type {Record<string, unknown>} */
  const body = { user, audio_muted: micOff.checked, video_muted: cameraOff.checked };
  if (config.invite) body.invite = config.invite;
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
    if (window.isSecureContext && navigator.mediaDevices) startPreview();
  }
}

/**
 * Fetches a token and joins the room with a new RoomSession. Used by Join
 * and Rejoin; fail shows a message where the caller wants it.
 * @param {string} user
 * @param {(msg: string) => void} fail
 */
async function startCall(user, fail) {
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
  const rs = new SignalWire.Video.RoomSession({
    token: grant.token,
    rootElement: byId('video-root'),
    audio: state.media.audio && constraint(micSelect),
    video: state.media.video && constraint(cameraSelect),
    ...(speakerSupported && speakerSelect.value ? { speakerId: speakerSelect.value } : {}),
  });
  Object.assign(state, { session: rs, leaving: false, ending: false, screenShare: null, recording: null, selfId: '' });
  openChannel(grant.seat);
  subscribe(rs); // before join(), so that room.joined is not missed
  try {
    await rs.join();
  } catch (err) {
    state.session = null;
    channel.stopped = true;
    fail(`Could not join the call: ${reason(err)}. Try again in a moment.`);
    return false;
  }
  if (state.session !== rs) return false;
  byId('call').hidden = false;
  byTestId('call-status')?.setAttribute('hidden', '');
  renderSelfControls();
  if (isModerator) loadLayouts(rs);
  return true;
}

/** Caches the layout names once per join; the picker is rebuilt from them after each swap. */
async function loadLayouts(/** @type {RoomSession} */ rs) {
  try {
    const { layouts } = await rs.getLayouts();
    if (state.session !== rs) return;
    state.layouts = Array.isArray(layouts) ? layouts.filter((l) => typeof l === 'string') : [];
    fillLayouts();
  } catch {
    state.layouts = null; // the picker keeps the current layout only
  }
}

// ---------------------------------------------------------------- SDK events

/** Plain fields of a member, in either spelling the SDK uses; no methods. */
function pickMember(/** @type {any} */ m) {
  if (!m || typeof m !== 'object') return undefined;
  return {
    id: str(m.id),
    name: str(m.name),
    type: str(m.type),
    parentId: str(m.parentId ?? m.parent_id),
    audioMuted: bool(m.audioMuted ?? m.audio_muted),
    videoMuted: bool(m.videoMuted ?? m.video_muted),
    deaf: bool(m.deaf),
    visible: bool(m.visible),
    handraised: bool(m.handraised ?? m.handRaised ?? m.hand_raised),
    talking: bool(m.talking),
  };
}

/** Room fields the panel shows, from a room session in either spelling. */
function pickRoom(/** @type {any} */ r) {
  if (!r || typeof r !== 'object') return undefined;
  return {
    layout_name: str(r.layout_name ?? r.layoutName),
    locked: bool(r.locked),
    recording: bool(r.recording),
    hide_video_muted: bool(r.hide_video_muted ?? r.hideVideoMuted),
  };
}

/** @param {any} p */
const memberEvent = (p) => ({ member: pickMember(p?.member) });
/** The recording events hand over a recording object: keep its data only. @param {any} r */
const recordingEvent = (r) => ({ id: str(r?.id), state: str(r?.state) });

/**
 * The events forwarded to the server, each with the function that picks
 * its plain documented fields (SDK objects may be class instances).
 * @type {Record<string, (p: any) => unknown>}
 */
const FORWARDED = {
  'room.joined': (p) => {
    const rs = p?.room_session ?? p?.roomSession ?? p?.room;
    const members = Array.isArray(rs?.members) ? rs.members.map(pickMember) : [];
    return { room_session: { ...pickRoom(rs), members }, member_id: str(p?.member_id ?? p?.memberId) };
  },
  'member.joined': memberEvent,
  'member.updated': memberEvent,
  // The per-field variants: the types name them in camelCase, the SDK
  // emits them under the server's snake_case keys; listening to both
  // costs nothing, and a duplicate is a harmless upsert on the server.
  'member.updated.audioMuted': memberEvent,
  'member.updated.videoMuted': memberEvent,
  'member.updated.audio_muted': memberEvent,
  'member.updated.video_muted': memberEvent,
  'member.updated.handraised': memberEvent,
  'member.updated.visible': memberEvent,
  'member.updated.deaf': memberEvent,
  'member.left': memberEvent,
  'member.talking': (p) => ({ member: { id: str(p?.member?.id), talking: bool(p?.member?.talking) } }),
  'memberList.updated': (p) => ({ members: Array.isArray(p?.members) ? p.members.map(pickMember) : [] }),
  'layout.changed': (p) => ({ layout: { name: str(p?.layout?.name ?? p?.layout_name ?? p?.layoutName) } }),
  'room.updated': (p) => ({ room_session: pickRoom(p?.room_session ?? p?.roomSession ?? p?.room) }),
  'recording.started': recordingEvent,
  'recording.updated': recordingEvent,
  'recording.ended': recordingEvent,
  'room.left': (p) => ({ reason: str(p?.reason) }),
  'room.ended': () => ({}),
};

/** Subscribes to everything forwarded, plus what the page itself shows. */
function subscribe(/** @type {RoomSession} */ rs) {
  // The SDK's event map is typed per name; the loop goes through one
  // loosely typed view of on() instead of a cast at each name.
  const on = /** @type {(name: string, fn: (p: any) => void) => void} */ (rs.on.bind(rs));
  for (const [name, pick] of Object.entries(FORWARDED)) {
    on(name, (p) => {
      if (state.session !== rs) return; // a late event of a session we left
      noteSelf(name, p);
      forward(name, pick(p));
      if (name === 'room.left' || name === 'room.ended') callEnded(name, p);
    });
  }
  // The media connection drops and recovers by itself; say so while it does.
  on('media.reconnecting', () => state.session === rs && callStatus('Connection lost. Reconnecting…', false));
  on('media.disconnected', () => state.session === rs && callStatus('Connection lost. Reconnecting…', false));
  on('media.connected', () => state.session === rs && !state.leaving && byTestId('call-status')?.setAttribute('hidden', ''));
}

/** Keeps the self member's id and state, which the self controls show. */
function noteSelf(/** @type {string} */ name, /** @type {any} */ p) {
  let members = [p?.member];
  if (name === 'room.joined') {
    state.selfId = str(p?.member_id ?? p?.memberId) || '';
    members = (p?.room_session ?? p?.roomSession ?? p?.room)?.members;
  } else if (name === 'memberList.updated') {
    members = p?.members;
  }
  const self = (Array.isArray(members) ? members : []).map(pickMember).find((m) => m?.id && m.id === state.selfId);
  if (!self) return;
  for (const k of /** @type {const} */ (['audioMuted', 'videoMuted', 'handraised'])) {
    const v = self[k];
    if (v !== undefined) state.self[k] = v;
  }
  renderSelfControls();
}

/** The call is over for this page: say why, and offer to rejoin. */
function callEnded(/** @type {string} */ name, /** @type {any} */ p) {
  const { leaving, ending } = state;
  endSession();
  if (leaving) {
    callStatus('You left the call.', true);
  } else if (ending) {
    callStatus('You ended the meeting for everyone.', true);
  } else if (str(p?.reason) === 'RECONNECTION_ATTEMPT_TIMEOUT') {
    callStatus('The connection to the call was lost.', true);
  } else if (name === 'room.ended') {
    callStatus('The meeting has ended.', true);
  } else {
    callStatus('You are no longer in the call. The host may have removed you or ended the meeting.', true);
  }
}

/** Forgets the session but keeps the channel open so room.left still reaches the server. */
function endSession() {
  state.session = null;
  state.screenShare = null;
  state.pending.clear();
  state.confirm = '';
  byId('call').hidden = true;
}

function callStatus(/** @type {string} */ text, /** @type {boolean} */ rejoin) {
  show('call-status-text', text);
  byTestId('call-status')?.removeAttribute('hidden');
  byTestId('rejoin')?.toggleAttribute('hidden', !rejoin);
}

// ---------------------------------------------------------------- forwarding

/** Starts a new epoch: the server numbers this join's events afresh. */
function openChannel(/** @type {string} */ seat) {
  clearTimeout(channel.timer);
  Object.assign(channel, { seat, epoch: randomId(), seq: 0, queue: [], timer: 0, failures: 0, stopped: false, snapshotSeq: 0 });
}

/** Queues one event and schedules a batch. */
function forward(/** @type {string} */ name, /** @type {unknown} */ data) {
  if (channel.stopped || !channel.seat) return;
  channel.seq += 1;
  channel.queue.push({ seq: channel.seq, name, data });
  if (channel.queue.length > MAX_QUEUE) {
    // The gap in seq tells the server that events were lost; it then
    // asks for a snapshot, so the roster recovers.
    channel.queue.splice(0, channel.queue.length - MAX_QUEUE);
  }
  schedule(BATCH_WINDOW_MS);
}

function schedule(/** @type {number} */ delay) {
  if (channel.timer || channel.inFlight || channel.stopped) return;
  channel.timer = window.setTimeout(() => {
    channel.timer = 0;
    sendBatch();
  }, delay);
}

/** Posts the oldest queued events; one request at a time, so answers apply in order. */
async function sendBatch() {
  if (channel.inFlight || channel.stopped || channel.queue.length === 0) return;
  const { epoch, seat } = channel;
  const batch = channel.queue.slice(0, MAX_BATCH);
  const lastSeq = batch[batch.length - 1].seq;
  channel.inFlight = true;
  /** @type {Response | null} */
  let res = null;
  let html = '';
  try {
    res = await fetch(config.eventsURL, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-Seat': seat, 'HX-Request': 'true', 'Content-Type': 'application/json', Accept: 'text/html' },
      body: JSON.stringify({ epoch, events: batch }),
    });
    html = await res.text(); // read before the next request may start
  } catch {
    res = null; // a network error: retried below
  }
  channel.inFlight = false;
  if (channel.epoch !== epoch) {
    schedule(0); // a rejoin began meanwhile: this answer describes the old call
    return;
  }
  if (!res || res.status >= 500) {
    retryLater(res?.status === 503 ? 2000 : 0); // keep the events, in order
    return;
  }
  channel.queue = channel.queue.filter((e) => e.seq > lastSeq);
  if (channel.snapshotSeq > 0 && channel.snapshotSeq <= lastSeq) channel.snapshotSeq = 0;
  if (res.ok) {
    channel.failures = 0;
    swapRoster(html);
    if (res.headers.get('X-Roster-Snapshot') === 'needed') sendSnapshot();
  } else {
    refused(res.status);
  }
  // Events that arrived meanwhile have waited long enough: send them now.
  if (channel.queue.length > 0) schedule(0);
}

/** The server refused a batch, and would refuse it again: it is dropped. */
function refused(/** @type {number} */ status) {
  if (status === 403) {
    channel.stopped = true;
    show('action-error', 'This call can no longer update the participant list. Reload the page and join again.');
  } else if (status === 409) {
    channel.stopped = true;
    show('action-error', 'This call was replaced by a newer one, in this or another tab. Reload the page and join again.');
  }
  // 400, 413, 422: the seq gap makes the server ask for a snapshot with
  // its next answer, which repairs the roster.
}

function retryLater(/** @type {number} */ atLeast) {
  channel.failures += 1;
  const base = Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(channel.failures, 8));
  schedule(Math.max(atLeast, base / 2 + Math.random() * (base / 2)));
}

/** Sends the SDK's member list: the server lost this seat's roster (a restart) or events. */
async function sendSnapshot() {
  const rs = state.session;
  if (!rs || channel.snapshotSeq) return;
  channel.snapshotSeq = -1; // asked for; set to its seq once queued
  try {
    const { members } = await rs.getMembers();
    if (state.session !== rs) return;
    forward('memberList.updated', { members: (members || []).map(pickMember), member_id: state.selfId || undefined });
    channel.snapshotSeq = channel.seq;
  } catch {
    channel.snapshotSeq = 0; // the next answer asks again
  }
}

/** Puts the server's roster fragment in place and restores the UI state it replaced. */
function swapRoster(/** @type {string} */ html) {
  const htmx = /** @type {{swap?: (target: string, html: string, spec: {swapStyle: string}) => void} | undefined} */ (
    /** @type {any} */ (window).htmx
  );
  if (htmx && typeof htmx.swap === 'function') {
    htmx.swap('#roster-panel', html, { swapStyle: 'innerHTML' });
  } else {
    byId('roster-panel').innerHTML = html;
  }
  restorePanelState();
}

// ---------------------------------------------------------------- moderator actions

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
  'start-recording': { what: 'start recording', run: async (rs) => { state.recording = await rs.startRecording(); } },
  'stop-recording': { what: 'stop recording', run: stopRecording },
  'hide-video-muted': { what: 'hide members without video', run: (rs) => rs.setHideVideoMuted(true) },
  'show-video-muted': { what: 'show members without video', run: (rs) => rs.setHideVideoMuted(false) },
  'confirm-end': { what: 'end the meeting', run: endForAll },
};

/** Runs fn for every person in the room except this page's own member. */
async function forEveryoneElse(/** @type {RoomSession} */ rs, /** @type {(id: string) => Promise<unknown>} */ fn) {
  const { members } = await rs.getMembers();
  const ids = (members || []).map(pickMember).filter((m) => m && m.id && m.type === 'member' && m.id !== state.selfId);
  const results = await Promise.allSettled(ids.map((m) => fn(/** @type {string} */ (m?.id))));
  const failed = ids.filter((_, i) => results[i].status === 'rejected').map((m) => m?.name || 'someone');
  const first = results.find((r) => r.status === 'rejected');
  if (first) throw new Error(`${reason(/** @type {PromiseRejectedResult} */ (first).reason)} (for ${failed.join(', ')})`);
}

async function endForAll(/** @type {RoomSession} */ rs) {
  state.ending = true;
  try {
    await rs.removeAllMembers();
  } catch (err) {
    state.ending = false;
    throw err;
  }
}

/** Stops the recording this page started, else any recording in progress. */
async function stopRecording(/** @type {RoomSession} */ rs) {
  if (state.recording) {
    await state.recording.stop();
    state.recording = null;
    return;
  }
  const { recordings } = await rs.getRecordings();
  const active = (recordings || []).filter((r) => r.state === 'recording' || r.state === 'paused');
  if (active.length === 0) throw new Error('no recording is in progress');
  await Promise.all(active.map((r) => r.stop()));
}

/** The name shown in the roster for a member id, for messages. */
function memberName(/** @type {string} */ id) {
  const row = document.querySelector(`#roster-panel [data-member-id="${CSS.escape(id)}"]`);
  return row?.querySelector('.member-name')?.textContent?.trim() || 'this participant';
}

function onPanelClick(/** @type {HTMLElement} */ el, /** @type {string} */ action) {
  const memberId = el.dataset.memberId || '';
  const rs = state.session;
  if (!rs) return;
  if (action === 'remove' || action === 'end-meeting') {
    // Ask in the page, not with a native dialog that blocks everything.
    state.confirm = action === 'remove' ? `confirm-remove:${memberId}` : 'confirm-end:';
    restorePanelState();
    return;
  }
  const member = MEMBER_ACTIONS[action];
  if (member && memberId) {
    state.confirm = '';
    run(`${action}:${memberId}`, () => member.run(rs, memberId), (err) => `Could not ${member.verb} ${memberName(memberId)}: ${reason(err)}.`);
    return;
  }
  const room = ROOM_ACTIONS[action];
  if (room) {
    if (action === 'confirm-end') state.confirm = '';
    run(`${action}:`, () => room.run(rs), (err) => `Could not ${room.what}: ${reason(err)}.`);
  }
}

function onLayoutChange(/** @type {HTMLSelectElement} */ select) {
  const rs = state.session;
  const name = select.value;
  if (!rs || !name) return;
  run('set-layout:', () => rs.setLayout({ name }), (err) => `Could not change the layout to ${name}: ${reason(err)}.`);
}

/**
 * Runs an SDK call with its button pending. On failure it shows a message
 * and changes nothing else: the roster only changes when the resulting
 * event comes back and the server renders it.
 * @param {string} key action and member id
 * @param {() => Promise<unknown>} call
 * @param {(err: unknown) => string} message
 */
async function run(key, call, message) {
  if (state.pending.has(key)) return;
  show('action-error', '');
  state.pending.add(key);
  restorePanelState();
  try {
    await call();
  } catch (err) {
    show('action-error', message(err));
  } finally {
    state.pending.delete(key);
    restorePanelState();
  }
}

/** Re-applies pending and confirmation state to the buttons the last swap replaced. */
function restorePanelState() {
  const panel = byId('roster-panel');
  for (const el of Array.from(panel.querySelectorAll('[data-action]'))) {
    if (!(el instanceof HTMLButtonElement || el instanceof HTMLSelectElement)) continue;
    const key = `${el.dataset.action}:${el.dataset.memberId || ''}`;
    const busy = state.pending.has(key) || (el.dataset.action === 'remove' && state.pending.has(`confirm-remove:${el.dataset.memberId}`));
    el.disabled = busy;
    if (busy) el.setAttribute('aria-busy', 'true');
    else el.removeAttribute('aria-busy');
  }
  const [confirmAction, confirmId] = state.confirm.split(':');
  const asking = confirmAction
    ? panel.querySelector(`[data-action="${confirmAction}"]${confirmId ? `[data-member-id="${CSS.escape(confirmId)}"]` : ''}`)
    : null;
  if (confirmAction && !asking) state.confirm = ''; // the member left meanwhile
  for (const el of Array.from(panel.querySelectorAll('[data-action="confirm-remove"], [data-action="confirm-end"]'))) {
    /** @type {HTMLElement} */ (el).hidden = el !== asking;
  }
  for (const el of Array.from(panel.querySelectorAll('[data-action="remove"], [data-action="end-meeting"]'))) {
    const h = /** @type {HTMLElement} */ (el);
    const confirmsIt = asking && (h.dataset.action === 'end-meeting' ? confirmAction === 'confirm-end' : h.dataset.memberId === confirmId);
    h.hidden = Boolean(confirmsIt);
  }
  fillLayouts();
}

/** Lists the cached layouts in the picker, keeping the server's current one selected. */
function fillLayouts() {
  const select = document.querySelector('#roster-panel select[data-action="set-layout"]');
  if (!(select instanceof HTMLSelectElement) || !state.layouts) return;
  const current = select.value;
  const names = state.layouts.includes(current) || !current ? [...state.layouts] : [current, ...state.layouts];
  const options = names.map((n) => new Option(n, n, false, n === current));
  if (!current) options.unshift(new Option('Choose a layout', '', true, true));
  select.replaceChildren(...options);
  select.value = current;
}

// ---------------------------------------------------------------- self controls

/**
 * The page's own controls: the SDK calls without a member id act on self.
 * @type {Record<string, {what: string, run: (rs: RoomSession) => Promise<unknown>}>}
 */
const SELF_ACTIONS = {
  'self-mic': {
    what: 'change your microphone',
    run: (rs) => (state.self.audioMuted ? rs.audioUnmute() : rs.audioMute()),
  },
  'self-camera': {
    what: 'change your camera',
    run: (rs) => (state.self.videoMuted ? rs.videoUnmute() : rs.videoMute()),
  },
  'self-hand': {
    what: 'change your raised hand',
    run: (rs) => rs.setRaisedHand({ raised: !state.self.handraised }),
  },
  'self-screenshare': { what: 'share your screen', run: toggleScreenShare },
  'self-leave': {
    what: 'leave the call',
    run: async (rs) => {
      state.leaving = true;
      await rs.leave();
      // The SDK emits room.left on leave; this covers an SDK that does not.
      if (state.session === rs) {
        forward('room.left', {});
        callEnded('room.left', {});
      }
    },
  },
};

async function toggleScreenShare(/** @type {RoomSession} */ rs) {
  const share = state.screenShare;
  if (share) {
    state.screenShare = null;
    renderSelfControls();
    await share.leave();
    return;
  }
  const started = await rs.startScreenShare({ audio: false, video: true });
  state.screenShare = started;
  // The browser's own "Stop sharing" ends it without us: follow along.
  started.on('room.left', () => {
    if (state.screenShare === started) state.screenShare = null;
    renderSelfControls();
  });
  renderSelfControls();
}

async function onSelfAction(/** @type {HTMLButtonElement} */ el, /** @type {string} */ action) {
  if (action === 'self-rejoin') {
    rejoin(el);
    return;
  }
  const rs = state.session;
  const self = SELF_ACTIONS[action];
  if (!rs || !self || el.getAttribute('aria-busy') === 'true') return;
  show('action-error', '');
  el.disabled = true;
  el.setAttribute('aria-busy', 'true');
  try {
    await self.run(rs);
  } catch (err) {
    if (action === 'self-leave') state.leaving = false;
    show('action-error', `Could not ${self.what}: ${reason(err)}.`);
  } finally {
    el.disabled = false;
    el.removeAttribute('aria-busy');
    renderSelfControls();
  }
}

async function rejoin(/** @type {HTMLButtonElement} */ el) {
  const user = /** @type {HTMLInputElement} */ (byId('prejoin-name')).value.trim() || config.user;
  el.disabled = true;
  show('call-status-text', 'Joining again…');
  state.self = { audioMuted: micOff.checked, videoMuted: cameraOff.checked, handraised: false };
  const ok = await startCall(user, (msg) => callStatus(msg, true));
  el.disabled = false;
  if (ok) byTestId('call-status')?.setAttribute('hidden', '');
}

/** Labels and aria-pressed of the self controls, from the self member's state. */
function renderSelfControls() {
  /** @type {[string, boolean, string, string][]} */
  const controls = [
    ['self-mic', state.self.audioMuted, 'Unmute mic', 'Mute mic'],
    ['self-camera', state.self.videoMuted, 'Start camera', 'Stop camera'],
    ['self-screenshare', state.screenShare !== null, 'Stop sharing', 'Share screen'],
    ['self-hand', state.self.handraised, 'Lower hand', 'Raise hand'],
  ];
  for (const [action, pressed, on, off] of controls) {
    const el = document.querySelector(`[data-action="${action}"]`);
    if (!el) continue;
    el.textContent = pressed ? on : off;
    el.setAttribute('aria-pressed', String(pressed));
  }
}

// ---------------------------------------------------------------- invite link

async function copyInvite(/** @type {HTMLButtonElement} */ button) {
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

// ---------------------------------------------------------------- wiring

document.addEventListener('click', (ev) => {
  const el = ev.target instanceof Element ? ev.target.closest('[data-action]') : null;
  if (!(el instanceof HTMLButtonElement) || el.disabled) return;
  const action = el.dataset.action || '';
  if (action.startsWith('self-')) {
    onSelfAction(el, action);
  } else if (action === 'copy-invite') {
    copyInvite(el);
  } else if (isModerator && el.closest('#roster-panel')) {
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
