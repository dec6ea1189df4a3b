// @ts-check
// swsim.js: a simulated @signalwire/js 3.30.0 for sandbox mode and browser
// tests. Load it instead of vendor/signalwire-js-3.30.0.umd.js; like that
// bundle it is a classic script that defines window.SignalWire.
//
// It copies what the real SDK does at run time, which is not always what its
// .d.ts files say (checked against the SDK's sources and SignalWire's own
// end-to-end tests):
//   - event payloads are the server's, in snake_case: members carry
//     audio_muted, video_muted, parent_id..., and member events carry
//     room_id and room_session_id;
//   - the per-field events are named after the snake_case field that changed
//     (member.updated.audio_muted); the camelCase names in the types
//     (member.updated.audioMuted) never fire;
//   - getMembers() resolves with snake_case members although its type says
//     camelCase, because the SDK passes the server's answer through;
//   - a method settles, as a rule, before the events that it causes arrive,
//     so a page must wait for the events, not for the promise;
//   - a refused call rejects with a plain object, not an Error:
//     {code: '403', message, jsonrpc: {code: '403', message}}; SignalWire's
//     tests read err.jsonrpc.code, and the SDK's JSON-RPC layer gives
//     {code, message}, so both are there;
//   - reading a room method before join() (or after leaving) throws.
//
// Tabs of one browser that join the same room share it through a
// BroadcastChannel named "swsim:<room>": each session is a node, the first
// node of a room is its host, and the host orders every change, runs the
// simulated members and hands over when it leaves.
//
// Everything is type-checked against the SDK's declarations (see
// jsconfig.json): each public method carries the type of the real one, and
// each event goes through emit(), whose payload type comes from the SDK's
// event map.
(() => {
  'use strict';

  /** @typedef {import('@signalwire/js').Video.RoomSession} SimRS */
  /** @typedef {import('@signalwire/js').Video.RoomSessionOptions} SimRSOptions */
  /** @typedef {import('@signalwire/js').RoomSessionObjectEventsHandlerMap} SimEvents */
  /** @typedef {import('@signalwire/js').InternalVideoMemberEntity} SimMember */
  /** @typedef {import('@signalwire/js').InternalVideoLayoutLayer} SimLayer */
  /** @typedef {import('@signalwire/js').VideoLayoutChangedEventParams} SimLayoutChanged */
  /** @typedef {import('@signalwire/js').VideoRoomSubscribedEventParams} SimJoined */
  /** @typedef {import('@signalwire/js').RoomSessionScreenShare} SimScreenShare */
  /** @typedef {import('@signalwire/js').Video.RoomSessionRecording} SimRecording */
  /** @typedef {SimJoined['room']} SimRoomEntity */
  /** @typedef {SimJoined['room_session']} SimRoomSessionEntity */
  /** @typedef {Parameters<SimEvents['member.joined']>[0] & {room_id: string, room_session_id: string}} SimMemberEvent */
  /** @typedef {Parameters<SimEvents['member.updated']>[0] & {room_id: string, room_session_id: string}} SimMemberUpdated */
  /** @typedef {Parameters<SimEvents['member.talking']>[0]} SimTalking */
  /** @typedef {Extract<Parameters<SimEvents['room.updated']>[0], {room: unknown, room_session: unknown, room_id: string}>} SimRoomUpdated */
  /** @typedef {'recording' | 'paused' | 'completed'} SimRecordingState */
  /** @typedef {{id: string, state: SimRecordingState, started_at: number, ended_at?: number}} SimRecordingData */

  /**
   * The replica of a room that every node keeps. The host changes it and
   * sends each change to the others, so all replicas go through the same
   * changes in the same order.
   * @typedef {object} SimRoom
   * @property {string} id
   * @property {string} sessionId
   * @property {string} name
   * @property {string} layout
   * @property {boolean} locked
   * @property {boolean} hideVideoMuted
   * @property {Record<string, unknown>} meta
   * @property {SimMember[]} members in order of arrival
   * @property {Record<string, string>} nodes member id → node id, for members that are sessions
   * @property {SimRecordingData[]} recordings
   * @property {string} host node id of the host
   * @property {boolean} autoplay whether the simulated members act by themselves
   * @property {number} tickMs
   */

  /**
   * A change of a room. Only the host applies one first; see SimRoom.
   * @typedef {{op: 'join', member: SimMember, node?: string}
   *   | {op: 'leave', id: string, host?: string}
   *   | {op: 'update', id: string, patch: Partial<SimMember>}
   *   | {op: 'talk', id: string, talking: boolean}
   *   | {op: 'room', patch: {locked?: boolean, hideVideoMuted?: boolean, meta?: Record<string, unknown>}}
   *   | {op: 'layout', name: string}
   *   | {op: 'recording', recording: SimRecordingData}
   *   | {op: 'timer', on: boolean}
   *   | {op: 'end'}} SimOp
   */

  /**
   * Messages between the nodes of a room.
   * @typedef {{t: 'hello', from: string}
   *   | {t: 'state', to: string, room: SimRoom}
   *   | {t: 'claim', from: string, at: number}
   *   | {t: 'req', from: string, rid: string, op: SimOp}
   *   | {t: 'res', to: string, rid: string, error?: unknown}
   *   | {t: 'op', op: SimOp}} SimMessage
   */

  const LAYOUTS = [
    'grid-responsive', 'grid-responsive-mobile', 'highlight-1-responsive',
    '1x1', '2x1', '2x2', '5up', '3x3', '4x4', '5x5', '6x6', '8x8', '10x10',
  ];
  const NAMES = [
    'Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Katherine Johnson',
    'Edsger Dijkstra', 'Barbara Liskov', 'Donald Knuth', 'Margaret Hamilton',
    'Claude Shannon', 'Radia Perlman', 'Ken Thompson', 'Frances Allen',
  ];
  // Long enough for a host in another tab to answer, short enough that a
  // join still feels instant.
  const DISCOVERY_MS = 150;
  /** @type {MediaTrackConstraints} */
  const PREVIEW = { width: { ideal: 480 }, height: { ideal: 270 }, frameRate: { ideal: 15 } };
  // After this long without an answer, the host is gone: take over. Long,
  // because a busy machine can delay a message by a second or more.
  const REQUEST_TIMEOUT_MS = 5000;

  const given = window.__swsimOptions || {};
  const options = {
    autoplay: given.autoplay !== false,
    members: given.members || NAMES.slice(0, 3).map((name) => ({ name })),
    tickMs: given.tickMs ?? 3000,
    latencyMs: given.latencyMs ?? 20,
  };

  // State of this page, shared by its sessions and read by the test hook.
  /** @type {SwsimCall[]} */
  const calls = [];
  /** @type {Map<string, unknown[]>} */
  const rejections = new Map();
  /** @type {RoomSession | null} */
  let lastSession = null;
  /** @type {Set<RoomSession>} */
  const sessions = new Set();
  // What stopTimer and startTimer asked for, so that rooms this page creates
  // later start with it.
  let autoplay = options.autoplay;

  // ---------------------------------------------------------------------
  // Small helpers

  /** @returns {string} a random RFC 4122 version 4 id; randomUUID needs a secure context, this does not */
  function uuid() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  /** @param {number} ms */
  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  /**
   * The error object of a refused call, shaped like the SDK's.
   * @param {string} code
   * @param {string} message
   */
  function rpcError(code, message) {
    return { code, message, jsonrpc: { code, message } };
  }

  /**
   * Copies call arguments for calls(): JSON, with DOM nodes, streams and
   * functions as labels, so the list survives Runtime.evaluate.
   * @param {unknown[]} args
   * @returns {unknown[]}
   */
  function copyArgs(args) {
    try {
      return JSON.parse(JSON.stringify(args, (_key, value) => {
        if (value instanceof Element) return `[${value.tagName.toLowerCase()}${value.id ? '#' + value.id : ''}]`;
        if (typeof MediaStream !== 'undefined' && value instanceof MediaStream) return '[MediaStream]';
        if (typeof value === 'function') return '[Function]';
        if (value === undefined) return null;
        return value;
      }));
    } catch {
      return args.map(String);
    }
  }

  /**
   * Records a call, waits the simulated latency, then runs it unless the test
   * asked for it to fail.
   * @template T
   * @param {string} method
   * @param {unknown[]} args
   * @param {() => Promise<T> | T} fn
   * @returns {Promise<T>}
   */
  async function simulateCall(method, args, fn) {
    calls.push({ method, args: copyArgs(args) });
    const queue = rejections.get(method);
    const injected = queue && queue.length > 0 ? { error: queue.shift() } : null;
    await sleep(options.latencyMs);
    if (injected) throw injected.error;
    return fn();
  }

  /**
   * Decodes the payload of a room token: JWT-shaped, base64url JSON in the
   * middle. Never verified: the browser cannot, and neither can we.
   * @param {string} token
   * @returns {{u: string, r: string, s: string[], ja: string, amd: boolean, vmd: boolean}}
   */
  function decodeToken(token) {
    const authError = () => Object.assign(
      new Error('Authentication service failed with status ProtocolError, 401 Unauthorized: {}'),
      { name: 'AuthError', code: -32002 });
    const part = typeof token === 'string' ? token.split('.')[1] : undefined;
    if (!part) throw authError();
    try {
      const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
      const json = new TextDecoder().decode(Uint8Array.from(atob(b64 + '==='.slice((b64.length + 3) % 4)), (c) => c.charCodeAt(0)));
      const claims = JSON.parse(json);
      if (typeof claims.r !== 'string' || claims.r === '') throw new Error('no room');
      return {
        u: typeof claims.u === 'string' ? claims.u : 'guest',
        r: claims.r,
        s: Array.isArray(claims.s) ? claims.s.filter((/** @type {unknown} */ p) => typeof p === 'string') : [],
        ja: claims.ja === 'audience' ? 'audience' : 'member',
        // join_audio_muted / join_video_muted, as SignalWire applies them.
        amd: claims.amd === true,
        vmd: claims.vmd === true,
      };
    } catch {
      throw authError();
    }
  }

  /**
   * A member with every field the SDK's type requires.
   * @param {Partial<SimMember>} partial
   * @param {SimRoom} room
   * @returns {SimMember}
   */
  function newMember(partial, room) {
    return {
      id: uuid(),
      name: NAMES[Math.floor(Math.random() * NAMES.length)],
      type: 'member',
      parent_id: undefined,
      requested_position: 'auto',
      current_position: undefined,
      meta: {},
      handraised: false,
      talking: false,
      audio_muted: false,
      video_muted: false,
      deaf: false,
      visible: true,
      input_volume: 0,
      output_volume: 0,
      input_sensitivity: 30,
      ...partial,
      room_id: room.id,
      room_session_id: room.sessionId,
    };
  }

  /** @param {SimMember} m @returns {SimMember} a copy that listeners may change */
  function snapshot(m) {
    return { ...m, meta: m.meta ? { ...m.meta } : m.meta };
  }

  /**
   * The layers of a layout: which member shows where on the 1280×720 canvas.
   * Members that do not fit are off-canvas.
   * @param {SimRoom} room
   * @returns {SimLayer[]}
   */
  function layersOf(room) {
    const shown = room.members.filter((m) => m.type !== 'device' && !(room.hideVideoMuted && m.video_muted));
    const fixed = /^(\d+)x(\d+)$/.exec(room.layout);
    let capacity = shown.length;
    if (fixed) capacity = Number(fixed[1]) * Number(fixed[2]);
    else if (room.layout === '5up') capacity = 5;
    capacity = Math.max(1, Math.min(capacity, 100));
    const cols = Math.ceil(Math.sqrt(capacity));
    const rows = Math.ceil(capacity / cols);
    const w = Math.floor(1280 / cols);
    const h = Math.floor(720 / rows);
    return shown.slice(0, capacity).map((m, i) => ({
      member_id: m.id,
      x: (i % cols) * w,
      y: Math.floor(i / cols) * h,
      width: w,
      height: h,
      layer_index: i,
      z_index: 0,
      reservation: '',
      position: /** @type {`standard-${number}`} */ (`standard-${i + 1}`),
      playing_file: false,
      visible: true,
    }));
  }

  // ---------------------------------------------------------------------
  // Permissions: the strings of signalwire.md, checked the way the server
  // does. A member permission also covers the caller itself (SignalWire's
  // tests raise their own hand with only room.member.raisehand).

  /**
   * @param {string[]} granted
   * @param {string} action the part after room.self. or room.member.
   * @param {boolean} self
   */
  function mayAct(granted, action, self) {
    return granted.includes(`room.member.${action}`) || (self && granted.includes(`room.self.${action}`));
  }

  const denied = () => rpcError('403', 'Permission Denied');
  const notFound = () => rpcError('404', 'Member not found');

  // ---------------------------------------------------------------------
  // The stage: what the session draws in its root element in place of the
  // MCU video. Styles go through the CSSOM, which a strict CSP allows.

  class Stage {
    /** @param {HTMLElement | null | undefined} root */
    constructor(root) {
      this.root = root || null;
      this.el = document.createElement('div');
      this.el.dataset.swsimStage = '';
      Object.assign(this.el.style, {
        display: 'grid', gap: '4px', background: '#111', aspectRatio: '16 / 9',
        width: '100%', padding: '4px', boxSizing: 'border-box',
      });
      /** @type {HTMLVideoElement | null} */
      this.video = null;
      this.selfId = '';
      /** @type {Map<string, HTMLElement>} */
      this.tiles = new Map();
    }

    mount() {
      if (this.root && !this.el.isConnected) this.root.append(this.el);
    }

    unmount() {
      this.el.remove();
    }

    /** @param {MediaStream | null} stream */
    setCamera(stream) {
      if (!stream) {
        this.video = null;
        return;
      }
      const v = document.createElement('video');
      v.muted = true;
      v.autoplay = true;
      v.playsInline = true;
      v.srcObject = stream;
      Object.assign(v.style, { width: '100%', height: '100%', objectFit: 'cover', transform: 'scaleX(-1)' });
      v.play().catch(() => {});
      this.video = v;
    }

    /**
     * Shows the members of the current layout in its order. Tiles are kept
     * and updated in place, so the camera preview keeps playing: a video
     * element taken out of the document pauses.
     * @param {SimRoom} room
     */
    render(room) {
      const layers = layersOf(room);
      const cols = Math.max(1, Math.round(1280 / (layers[0]?.width || 1280)));
      this.el.style.gridTemplateColumns = `repeat(${cols}, 1fr)`;
      /** @type {HTMLElement[]} */
      const tiles = [];
      for (const layer of layers) {
        const m = room.members.find((x) => x.id === layer.member_id);
        if (m) tiles.push(this.tile(m));
      }
      tiles.forEach((t, i) => {
        if (this.el.children[i] !== t) this.el.insertBefore(t, this.el.children[i] || null);
      });
      while (this.el.children.length > tiles.length) this.el.lastElementChild?.remove();
      for (const id of this.tiles.keys()) {
        if (!room.members.some((m) => m.id === id)) this.tiles.delete(id);
      }
    }

    /**
     * The tile of a member, brought up to date.
     * @param {SimMember} m
     * @returns {HTMLElement}
     */
    tile(m) {
      let t = this.tiles.get(m.id);
      if (!t) {
        t = document.createElement('div');
        t.dataset.swsimMember = m.id;
        t.dataset.swsimType = m.type;
        if (m.id === this.selfId) t.dataset.swsimSelf = '';
        let hue = 0;
        for (const c of m.name) hue = (hue * 31 + c.charCodeAt(0)) % 360;
        Object.assign(t.style, {
          position: 'relative', aspectRatio: '16 / 9', overflow: 'hidden', borderRadius: '6px',
          background: `hsl(${hue} 45% 35%)`, color: '#fff', font: '14px system-ui, sans-serif',
          display: 'flex', alignItems: 'center', justifyContent: 'center',
        });
        const face = document.createElement('span');
        face.textContent = m.name.split(/\s+/).map((w) => w[0] || '').join('').slice(0, 2).toUpperCase();
        face.style.fontSize = '2em';
        const label = document.createElement('span');
        Object.assign(label.style, {
          position: 'absolute', left: '6px', bottom: '4px', padding: '1px 6px',
          background: 'rgb(0 0 0 / 55%)', borderRadius: '4px',
        });
        t.append(face, label);
        this.tiles.set(m.id, t);
      }
      t.style.outline = m.talking ? '3px solid #4ade80' : 'none';
      const face = /** @type {HTMLElement} */ (t.firstElementChild);
      const showVideo = m.id === this.selfId && this.video && !m.video_muted ? this.video : null;
      if (showVideo && face !== showVideo) {
        face.replaceWith(showVideo);
        if (showVideo.paused) showVideo.play().catch(() => {});
      } else if (!showVideo && face instanceof HTMLVideoElement) {
        const initials = document.createElement('span');
        initials.textContent = m.name.split(/\s+/).map((w) => w[0] || '').join('').slice(0, 2).toUpperCase();
        initials.style.fontSize = '2em';
        face.replaceWith(initials);
      }
      const marks = [m.type === 'screen' ? '🖥' : '', m.audio_muted ? '🔇' : '', m.video_muted ? '📷̸' : '', m.handraised ? '✋' : ''];
      const label = /** @type {HTMLElement} */ (t.lastElementChild);
      label.textContent = [m.name, ...marks].filter(Boolean).join(' ');
      return t;
    }
  }

  // ---------------------------------------------------------------------
  // Node: one joined session's link to its room.

  class Node {
    /**
     * @param {RoomSession} session
     * @param {string} roomName
     */
    constructor(session, roomName) {
      this.session = session;
      this.id = uuid();
      this.channel = new BroadcastChannel(`swsim:${roomName}`);
      /** @type {SimRoom | null} */
      this.room = null;
      /** @type {Map<string, {resolve: (v: void) => void, reject: (e: unknown) => void, timer: number, op: SimOp}>} */
      this.pending = new Map();
      /** @type {number | undefined} */
      this.timer = undefined;
      this.claimedAt = 0;
      this.closed = false;
      /** @type {((room: SimRoom) => void) | null} */
      this.onState = null;
      this.channel.onmessage = (e) => this.receive(/** @type {SimMessage} */ (e.data));
    }

    get isHost() {
      return !!this.room && this.room.host === this.id;
    }

    /** @param {SimMessage} msg */
    post(msg) {
      if (!this.closed) this.channel.postMessage(msg);
    }

    /**
     * Finds the room: asks the host for it, or creates it when nobody answers.
     * @param {string} roomName
     * @returns {Promise<SimRoom>}
     */
    discover(roomName) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          this.onState = null;
          const id = uuid();
          /** @type {SimRoom} */
          const room = {
            id, sessionId: uuid(), name: roomName, layout: 'grid-responsive', locked: false,
            hideVideoMuted: false, meta: {}, members: [], nodes: {}, recordings: [],
            host: this.id, autoplay, tickMs: options.tickMs,
          };
          room.members = options.members.map((p) => newMember(p, room));
          this.room = room;
          this.claimedAt = Date.now();
          this.post({ t: 'claim', from: this.id, at: this.claimedAt });
          resolve(room);
        }, DISCOVERY_MS);
        this.onState = (room) => {
          clearTimeout(timer);
          this.onState = null;
          this.room = room;
          resolve(room);
        };
        this.post({ t: 'hello', from: this.id });
      });
    }

    /** @param {SimMessage} msg */
    receive(msg) {
      if (this.closed) return;
      switch (msg.t) {
        case 'hello':
          if (this.isHost && this.room) this.post({ t: 'state', to: msg.from, room: this.room });
          return;
        case 'state':
          if (msg.to === this.id && this.onState) this.onState(msg.room);
          return;
        case 'claim':
          this.settleClaim(msg.from, msg.at);
          return;
        case 'req':
          if (this.isHost) this.serve(msg.from, msg.rid, msg.op);
          return;
        case 'res': {
          const p = msg.to === this.id ? this.pending.get(msg.rid) : undefined;
          if (!p) return;
          this.pending.delete(msg.rid);
          clearTimeout(p.timer);
          if (msg.error !== undefined) p.reject(msg.error);
          else p.resolve();
          return;
        }
        case 'op':
          if (this.room && !this.isHost) this.session.apply(msg.op);
          return;
      }
    }

    /**
     * Two tabs that opened a room at the same moment both created it. The
     * older claim wins; the other node drops its room and joins the winner's.
     * @param {string} from
     * @param {number} at
     */
    settleClaim(from, at) {
      if (!this.isHost || !this.room) return;
      const mine = [this.claimedAt, this.id];
      const theirs = [at, from];
      if (mine[0] < theirs[0] || (mine[0] === theirs[0] && mine[1] < theirs[1])) {
        this.post({ t: 'claim', from: this.id, at: this.claimedAt });
        return;
      }
      this.stopTimer();
      const self = this.room.members.find((m) => m.id === this.session.memberId);
      this.room.host = from;
      this.onState = (room) => {
        this.onState = null;
        this.session.resync(room);
        if (self && !room.members.some((m) => m.id === self.id)) {
          this.request({ op: 'join', member: self, node: this.id }).catch(() => {});
        }
      };
      this.post({ t: 'hello', from: this.id });
    }

    /**
     * Asks the host to make a change and waits until it has.
     * @param {SimOp} op
     * @returns {Promise<void>}
     */
    request(op) {
      if (this.isHost) {
        const error = this.commit(op);
        return error === undefined ? Promise.resolve() : Promise.reject(error);
      }
      return new Promise((resolve, reject) => {
        const rid = uuid();
        const timer = window.setTimeout(() => {
          // The host left without handing over (a closed tab): take over
          // with our replica, which has every change the host made.
          this.pending.delete(rid);
          if (!this.room) return reject(rpcError('400', 'The SDK is disconnected'));
          this.room.host = this.id;
          this.claimedAt = Date.now();
          // Should the host still be there after all, the claims settle it.
          this.post({ t: 'claim', from: this.id, at: this.claimedAt });
          this.startTimer();
          const error = this.commit(op);
          if (error === undefined) resolve();
          else reject(error);
        }, REQUEST_TIMEOUT_MS);
        this.pending.set(rid, { resolve, reject, timer, op });
        this.post({ t: 'req', from: this.id, rid, op });
      });
    }

    /**
     * Host side of request().
     * @param {string} from
     * @param {string} rid
     * @param {SimOp} op
     */
    serve(from, rid, op) {
      const error = this.commit(op);
      this.post(error === undefined ? { t: 'res', to: from, rid } : { t: 'res', to: from, rid, error });
    }

    /**
     * Host only: checks a change against the room, applies it here and sends
     * it to the other nodes. Returns the error when the change is refused.
     * @param {SimOp} op
     * @returns {unknown}
     */
    commit(op) {
      const room = this.room;
      if (!room) return rpcError('400', 'The SDK is disconnected');
      if (op.op === 'update' || op.op === 'talk' || op.op === 'leave') {
        const id = op.id;
        if (!room.members.some((m) => m.id === id)) return notFound();
      }
      if (op.op === 'leave' && room.nodes[op.id] === this.id) {
        // The host itself leaves: hand the room to the oldest other session.
        const id = op.id;
        const next = room.members.find((m) => m.id !== id && room.nodes[m.id]);
        if (next) op = { ...op, host: room.nodes[next.id] };
      }
      this.post({ t: 'op', op });
      this.session.apply(op);
      return undefined;
    }

    startTimer() {
      const room = this.room;
      if (!room || !this.isHost || !room.autoplay || this.timer !== undefined) return;
      this.timer = window.setInterval(() => this.step(), room.tickMs);
    }

    stopTimer() {
      clearInterval(this.timer);
      this.timer = undefined;
    }

    /** One step of the simulated members: talk, mute, raise a hand, come and go. */
    step() {
      const room = this.room;
      if (!room || !this.isHost) return this.stopTimer();
      const bots = room.members.filter((m) => !room.nodes[m.id] && m.type === 'member');
      if (bots.length === 0) return;
      const bot = bots[Math.floor(Math.random() * bots.length)];
      const dice = Math.random();
      if (dice < 0.35) {
        if (bot.audio_muted || bot.talking) return;
        this.commit({ op: 'talk', id: bot.id, talking: true });
        setTimeout(() => {
          if (this.isHost && this.room?.members.some((m) => m.id === bot.id)) {
            this.commit({ op: 'talk', id: bot.id, talking: false });
          }
        }, 600 + Math.random() * 900);
      } else if (dice < 0.55) {
        this.commit({ op: 'update', id: bot.id, patch: { audio_muted: !bot.audio_muted } });
      } else if (dice < 0.65) {
        this.commit({ op: 'update', id: bot.id, patch: { video_muted: !bot.video_muted, visible: bot.video_muted } });
      } else if (dice < 0.8) {
        this.commit({ op: 'update', id: bot.id, patch: { handraised: !bot.handraised } });
      } else if (dice < 0.85) {
        const present = new Set(room.members.map((m) => m.name));
        const name = NAMES.find((n) => !present.has(n)) || `Guest ${Math.floor(Math.random() * 1000)}`;
        this.commit({ op: 'leave', id: bot.id });
        this.commit({ op: 'join', member: newMember({ name }, room) });
      }
    }

    close() {
      this.closed = true;
      this.stopTimer();
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        // The change that ended this session has happened, even though the
        // host's answer will no longer reach us.
        const ending = p.op.op === 'end' || (p.op.op === 'leave' && p.op.id === this.session.memberId);
        if (ending) p.resolve();
        else p.reject(rpcError('400', 'The SDK session is disconnecting'));
      }
      this.pending.clear();
      this.channel.close();
    }
  }

  // ---------------------------------------------------------------------
  // RoomSession

  /**
   * Properties that the real SDK refuses to read before join() succeeds
   * (UNSAFE_PROP_ACCESS in its RoomSession.ts, typo included: removeMember
   * is not in it).
   */
  const UNSAFE = new Set([
    'audioMute', 'audioUnmute', 'deaf', 'getLayouts', 'getMembers', 'getRecordings', 'hideVideoMuted',
    'leave', 'removerMember', 'restoreOutboundAudio', 'restoreOutboundVideo', 'setInputSensitivity',
    'setInputVolume', 'setLayout', 'setPositions', 'setMemberPosition', 'setOutputVolume', 'showVideoMuted',
    'startRecording', 'stopOutboundAudio', 'stopOutboundVideo', 'undeaf', 'videoMute', 'videoUnmute',
    'setMicrophoneVolume', 'setSpeakerVolume', 'getMeta', 'setMeta', 'updateMeta', 'deleteMeta',
    'getMemberMeta', 'setMemberMeta', 'updateMemberMeta', 'deleteMemberMeta', 'promote', 'demote',
    'lock', 'unlock',
  ]);

  class RoomSession {
    /** @param {SimRSOptions} opts */
    constructor(opts) {
      /** @type {SimRSOptions} */
      this.options = opts || {};
      /** @type {Map<string, Set<{fn: Function, once: boolean}>>} */
      this.listeners = new Map();
      /** @type {Node | null} */
      this.node = null;
      this.stage = new Stage(opts?.rootElement);
      this.memberId = '';
      this.callId = '';
      this.roomId = '';
      this.roomSessionId = '';
      this.active = false;
      this.used = false;
      /** @type {string[]} */
      this.permissions = [];
      /** @type {'member' | 'audience'} */
      this.interactivityMode = 'member';
      /** @type {'RECONNECTION_ATTEMPT_TIMEOUT' | undefined} */
      this.leaveReason = undefined;
      /** @type {MediaStream | undefined} */
      this.localStream = undefined;
      /** @type {SimLayoutChanged | undefined} */
      this.currentLayoutEvent = undefined;
      this.wantVideo = false;
      this.cameraSeq = 0;
      /** @type {MediaTrackConstraints | boolean} */
      this.cameraConstraints = true;
      // Events wait here until the call that caused them has settled.
      /** @type {(() => void)[]} */
      this.outbox = [];
      // Until room.joined goes out, changes only update the replica:
      // room.joined carries the state, and the SDK emits nothing before it.
      this.announced = false;
      /** @type {Map<string, {rec: SimRecording, set: (data: SimRecordingData) => void}>} */
      this.recordingObjects = new Map();

      const proxy = new Proxy(this, {
        get(target, prop, receiver) {
          if (typeof prop === 'string' && !target.active && UNSAFE.has(prop)) {
            throw new Error(`Tried to access the property/method "${prop}" before the room was connected. Please call roomSession.join() first.`);
          }
          return Reflect.get(target, prop, receiver);
        },
      });
      lastSession = proxy;
      sessions.add(proxy);
      return proxy;
    }

    get currentLayout() {
      return this.currentLayoutEvent?.layout;
    }

    // --- events -------------------------------------------------------

    /** @type {SimRS['on']} */
    on(event, fn) {
      return this.listen(event, fn, false);
    }

    /** @type {SimRS['once']} */
    once(event, fn) {
      return this.listen(event, fn, true);
    }

    /** @type {SimRS['off']} */
    off(event, fn) {
      const set = this.listeners.get(event);
      if (set) {
        for (const l of set) if (!fn || l.fn === fn) set.delete(l);
      }
      return this;
    }

    /** @type {SimRS['removeAllListeners']} */
    removeAllListeners(event) {
      if (event) this.listeners.delete(event);
      else this.listeners.clear();
      return this;
    }

    /**
     * @param {string} event
     * @param {Function} fn
     * @param {boolean} once
     */
    listen(event, fn, once) {
      let set = this.listeners.get(event);
      if (!set) this.listeners.set(event, (set = new Set()));
      set.add({ fn, once });
      return this;
    }

    /** @type {SimRS['emit']} */
    emit(event, ...args) {
      this.dispatch(event, args[0]);
    }

    /**
     * Calls the listeners of any event name. emit() is the typed way in;
     * this is for the names the SDK's event map lacks but the SDK emits,
     * such as member.updated.handraised.
     * @param {string} event
     * @param {unknown} payload
     */
    dispatch(event, payload) {
      const set = this.listeners.get(event);
      if (!set) return;
      for (const l of [...set]) {
        if (l.once) set.delete(l);
        try {
          l.fn(payload);
        } catch (err) {
          // Like an uncaught error in a listener of the real SDK: reported,
          // and the other listeners still run.
          reportError(err);
        }
      }
    }

    /** @param {() => void} fn queues an emission behind the current call */
    later(fn) {
      if (!this.announced) return;
      this.outbox.push(fn);
      if (this.outbox.length === 1) {
        setTimeout(() => {
          const batch = this.outbox;
          this.outbox = [];
          for (const f of batch) f();
        }, 0);
      }
    }

    // --- joining and leaving ------------------------------------------

    /** @type {SimRS['join']} */
    join(params) {
      return simulateCall('join', [params], async () => {
        if (this.used) throw new Error('swsim: this RoomSession has already joined once; create a new one');
        this.used = true;
        const claims = decodeToken(this.options.token);
        this.permissions = claims.s;
        this.interactivityMode = claims.ja === 'audience' ? 'audience' : 'member';
        const audio = params?.audio ?? this.options.audio ?? true;
        const video = params?.video ?? this.options.video ?? true;
        this.wantVideo = video !== false && this.interactivityMode === 'member';
        // A small preview is all a tile needs, and it keeps many tabs of
        // one test browser cheap.
        this.cameraConstraints = typeof video === 'object' ? video : PREVIEW;

        const node = new Node(this, claims.r);
        this.node = node;
        const room = await node.discover(claims.r);
        this.roomId = room.id;
        this.roomSessionId = room.sessionId;
        this.callId = uuid();
        this.active = true;
        const self = newMember({
          name: claims.u, audio_muted: !audio || claims.amd, video_muted: !this.wantVideo || claims.vmd,
          visible: this.wantVideo && !claims.vmd,
        }, room);
        this.memberId = self.id;
        this.stage.selfId = self.id;
        if (node.isHost) {
          room.members.push(self);
          room.nodes[self.id] = node.id;
        } else {
          await node.request({ op: 'join', member: self, node: node.id });
        }
        this.stage.mount();
        if (this.wantVideo) await this.startCamera();
        this.stage.render(room);

        /** @type {SimJoined} */
        const joined = {
          room: { ...this.roomEntity(room), members: room.members.map(snapshot) },
          room_session: { ...this.roomSessionEntity(room, room.members.map(snapshot), undefined), members: room.members.map(snapshot) },
          call_id: this.callId,
          member_id: self.id,
        };
        this.announced = true;
        this.later(() => {
          this.emit('room.subscribed', joined);
          this.emit('room.joined', structuredClone(joined));
          this.emit('memberList.updated', { members: room.members.map(snapshot) });
          this.emitLayout(room);
        });
        node.startTimer();
        // Resolves with the session itself, as the SDK does.
        return /** @type {Awaited<ReturnType<SimRS['join']>>} */ (/** @type {unknown} */ (this));
      });
    }

    /** @type {SimRS['leave']} */
    leave() {
      return simulateCall('leave', [], async () => {
        if (!this.node) return;
        await this.node.request({ op: 'leave', id: this.memberId }).catch(() => {});
      });
    }

    /** Leaves at once, for pagehide: no latency, nothing awaited. */
    leaveNow() {
      if (this.node?.room) this.node.request({ op: 'leave', id: this.memberId }).catch(() => {});
    }

    /** Ends this session: room.left, then no more events. */
    end() {
      if (!this.active) return;
      this.active = false;
      sessions.delete(this);
      this.node?.close();
      this.stopCamera();
      this.stage.unmount();
      this.announced = true;
      this.later(() => {
        this.emit('room.left', { reason: this.leaveReason });
      });
    }

    // --- applying changes -----------------------------------------------

    /**
     * Applies a change to this node's replica and queues the events that the
     * SDK would emit for it.
     * @param {SimOp} op
     */
    apply(op) {
      const node = this.node;
      const room = node?.room;
      if (!node || !room) return;
      const ids = { room_id: room.id, room_session_id: room.sessionId };
      switch (op.op) {
        case 'join': {
          if (room.members.some((m) => m.id === op.member.id)) return;
          const member = snapshot(op.member);
          room.members.push(member);
          if (op.node) room.nodes[member.id] = op.node;
          if (member.id === this.memberId) return; // our own join: room.joined tells it
          /** @type {SimMemberEvent} */
          const payload = { ...ids, member: snapshot(member) };
          this.later(() => this.emit('member.joined', payload));
          this.memberListChanged(room);
          return;
        }
        case 'leave': {
          // Screen shares and devices go with their owner.
          const gone = room.members.filter((m) => m.id === op.id || m.parent_id === op.id);
          room.members = room.members.filter((m) => !gone.includes(m));
          for (const m of gone) delete room.nodes[m.id];
          if (op.host) room.host = op.host;
          if (gone.some((m) => m.id === this.memberId)) {
            this.end();
            return;
          }
          for (const m of gone) {
            /** @type {SimMemberEvent} */
            const payload = { ...ids, member: snapshot(m) };
            this.later(() => this.emit('member.left', payload));
          }
          this.memberListChanged(room);
          node.startTimer();
          return;
        }
        case 'update': {
          const member = room.members.find((m) => m.id === op.id);
          if (!member) return;
          /** @type {(keyof SimMember)[]} */
          const updated = [];
          for (const [key, value] of Object.entries(op.patch)) {
            const k = /** @type {keyof SimMember} */ (key);
            if (k === 'id' || k === 'room_id' || k === 'room_session_id') continue;
            if (JSON.stringify(member[k]) !== JSON.stringify(value)) {
              updated.push(k);
              Object.assign(member, { [k]: value });
            }
          }
          if (updated.length === 0) return;
          /** @type {SimMemberUpdated} */
          const payload = { ...ids, member: { ...snapshot(member), updated } };
          this.later(() => {
            // The SDK emits one event per changed field, named after the
            // server's snake_case key, then member.updated.
            for (const key of updated) this.dispatch(`member.updated.${key}`, structuredClone(payload));
            this.emit('member.updated', payload);
          });
          if (member.id === this.memberId && updated.includes('video_muted')) {
            if (member.video_muted) this.stopCamera();
            else if (this.wantVideo) this.startCamera().then(() => this.stage.render(room));
          }
          this.memberListChanged(room, updated.includes('video_muted') && room.hideVideoMuted);
          return;
        }
        case 'talk': {
          const member = room.members.find((m) => m.id === op.id);
          if (!member || member.talking === op.talking) return;
          member.talking = op.talking;
          /** @type {SimTalking} */
          const payload = { ...ids, member: { id: member.id, talking: op.talking } };
          this.later(() => {
            this.emit(op.talking ? 'member.talking.started' : 'member.talking.ended', structuredClone(payload));
            this.emit(op.talking ? 'member.talking.start' : 'member.talking.stop', structuredClone(payload));
            this.emit('member.talking', payload);
          });
          this.stage.render(room);
          return;
        }
        case 'room': {
          /** @type {string[]} */
          const updated = [];
          if (op.patch.locked !== undefined && op.patch.locked !== room.locked) {
            room.locked = op.patch.locked;
            updated.push('locked');
          }
          if (op.patch.hideVideoMuted !== undefined && op.patch.hideVideoMuted !== room.hideVideoMuted) {
            room.hideVideoMuted = op.patch.hideVideoMuted;
            updated.push('hide_video_muted');
          }
          if (op.patch.meta !== undefined) {
            room.meta = { ...op.patch.meta };
            updated.push('meta');
          }
          if (updated.length === 0) return;
          this.roomUpdated(room, updated);
          if (updated.includes('hide_video_muted')) this.layoutChanged(room);
          return;
        }
        case 'layout':
          room.layout = op.name;
          this.layoutChanged(room);
          return;
        case 'recording': {
          const was = room.recordings.some((r) => r.state !== 'completed');
          const i = room.recordings.findIndex((r) => r.id === op.recording.id);
          const isNew = i < 0;
          if (isNew) room.recordings.push({ ...op.recording });
          else room.recordings[i] = { ...op.recording };
          const rec = this.recordingObject(op.recording, room);
          const event = isNew ? 'recording.started' : op.recording.state === 'completed' ? 'recording.ended' : 'recording.updated';
          this.later(() => this.emit(event, rec));
          const now = room.recordings.some((r) => r.state !== 'completed');
          if (now !== was) this.roomUpdated(room, ['recording']);
          if (op.recording.state === 'completed') room.recordings = room.recordings.filter((r) => r.id !== op.recording.id);
          return;
        }
        case 'timer':
          room.autoplay = op.on;
          if (op.on) node.startTimer();
          else node.stopTimer();
          return;
        case 'end':
          room.members = [];
          this.end();
          return;
      }
    }

    /**
     * Replaces the replica after two hosts met (see Node.settleClaim) and
     * tells the listeners what changed.
     * @param {SimRoom} next
     */
    resync(next) {
      const node = this.node;
      const prev = node?.room;
      if (!node || !prev) return;
      node.room = next;
      const ids = { room_id: next.id, room_session_id: next.sessionId };
      for (const m of prev.members) {
        if (m.id !== this.memberId && !next.members.some((x) => x.id === m.id)) {
          /** @type {SimMemberEvent} */
          const payload = { ...ids, member: snapshot(m) };
          this.later(() => this.emit('member.left', payload));
        }
      }
      for (const m of next.members) {
        if (!prev.members.some((x) => x.id === m.id)) {
          /** @type {SimMemberEvent} */
          const payload = { ...ids, member: snapshot(m) };
          this.later(() => this.emit('member.joined', payload));
        }
      }
      this.roomId = next.id;
      this.roomSessionId = next.sessionId;
      this.memberListChanged(next, true);
    }

    /**
     * @param {SimRoom} room
     * @param {boolean} [relayout] whether the layout changes too (it does when members come or go)
     */
    memberListChanged(room, relayout = true) {
      const members = room.members.map(snapshot);
      this.later(() => this.emit('memberList.updated', { members }));
      if (relayout) this.layoutChanged(room);
      else this.stage.render(room);
    }

    /** @param {SimRoom} room */
    layoutChanged(room) {
      this.later(() => this.emitLayout(room));
      this.stage.render(room);
    }

    /** @param {SimRoom} room */
    emitLayout(room) {
      const layers = layersOf(room);
      for (const m of room.members) {
        m.current_position = layers.find((l) => l.member_id === m.id)?.position ?? 'off-canvas';
      }
      /** @type {SimLayoutChanged} */
      const event = {
        room_id: room.id,
        room_session_id: room.sessionId,
        layout: { id: uuid(), name: room.layout, room_id: room.id, room_session_id: room.sessionId, layers },
      };
      this.currentLayoutEvent = event;
      this.emit('layout.changed', event);
    }

    /**
     * @param {SimRoom} room
     * @param {string[]} updated the server's snake_case names of the fields that changed
     */
    roomUpdated(room, updated) {
      /** @type {SimRoomUpdated} */
      const payload = {
        room_id: room.id,
        room_session_id: room.sessionId,
        room: this.roomEntity(room),
        room_session: this.roomSessionEntity(room, undefined, updated),
      };
      this.later(() => this.emit('room.updated', payload));
    }

    /**
     * The room as the server describes it (the older shape the SDK keeps).
     * @param {SimRoom} room
     * @returns {Omit<SimRoomEntity, 'members'>}
     */
    roomEntity(room) {
      return {
        room_id: room.id,
        room_session_id: room.sessionId,
        event_channel: `swsim.${room.sessionId}`,
        name: room.name,
        recording: room.recordings.some((r) => r.state !== 'completed'),
        hide_video_muted: room.hideVideoMuted,
        prioritize_handraise: false,
      };
    }

    /**
     * The room session as the server describes it. The SDK's type makes
     * every field required, so the absent ones are there as undefined.
     * @param {SimRoom} room
     * @param {SimMember[] | undefined} members
     * @param {string[] | undefined} updated
     * @returns {SimRoomUpdated['room_session']}
     */
    roomSessionEntity(room, members, updated) {
      return {
        id: room.sessionId,
        room_id: room.id,
        room_session_id: room.sessionId,
        event_channel: `swsim.${room.sessionId}`,
        name: room.name,
        display_name: room.name,
        recording: room.recordings.some((r) => r.state !== 'completed'),
        // The SDK turns the recordings of room.joined into recording objects.
        recordings: members ? room.recordings.map((r) => this.recordingObject(r, room)) : undefined,
        playbacks: undefined,
        streams: undefined,
        hide_video_muted: room.hideVideoMuted,
        preview_url: undefined,
        layout_name: room.layout,
        locked: room.locked,
        meta: { ...room.meta },
        members,
        // The types list camelCase names here; the server sends snake_case,
        // as it does for members.
        updated: /** @type {SimRoomSessionEntity['updated']} */ (/** @type {unknown} */ (updated)),
        streaming: false,
        prioritize_handraise: false,
      };
    }

    // --- own media ------------------------------------------------------

    async startCamera() {
      this.stopCamera();
      // A later start or a stop makes this one stale.
      const seq = ++this.cameraSeq;
      try {
        const stream = await navigator.mediaDevices.getUserMedia({ video: this.cameraConstraints, audio: false });
        if (!this.active || seq !== this.cameraSeq) {
          stream.getTracks().forEach((t) => t.stop());
          return;
        }
        this.localStream = stream;
        this.stage.setCamera(stream);
      } catch {
        // No camera or no permission: the tile stands in, so that sandbox
        // mode works anywhere; the real SDK would fail the join instead.
        if (seq === this.cameraSeq) this.stage.setCamera(null);
      }
    }

    stopCamera() {
      this.cameraSeq++;
      this.localStream?.getTracks().forEach((t) => t.stop());
      this.localStream = undefined;
      this.stage.setCamera(null);
    }

    /** @type {SimRS['updateCamera']} */
    updateCamera(constraints) {
      return simulateCall('updateCamera', [constraints], async () => {
        this.cameraConstraints = { ...PREVIEW, ...constraints };
        const self = this.node?.room?.members.find((m) => m.id === this.memberId);
        if (this.wantVideo && self && !self.video_muted) {
          await this.startCamera();
          if (this.node?.room) this.stage.render(this.node.room);
        }
      });
    }

    /** @type {SimRS['updateMicrophone']} */
    updateMicrophone(constraints) {
      return simulateCall('updateMicrophone', [constraints], () => {});
    }

    /** @type {SimRS['updateSpeaker']} */
    updateSpeaker(opts) {
      return simulateCall('updateSpeaker', [opts], () => undefined);
    }

    // --- member methods -------------------------------------------------

    /**
     * Checks the permission and the member, then asks the host for the
     * change. The server refuses first for the permission (403), then for a
     * member that does not exist (404).
     * @param {string | undefined} memberId
     * @param {string} action the permission after room.self./room.member.
     * @param {(m: SimMember) => Partial<SimMember>} patch
     */
    async changeMember(memberId, action, patch) {
      const id = memberId || this.memberId;
      if (!mayAct(this.permissions, action, id === this.memberId)) throw denied();
      const member = this.node?.room?.members.find((m) => m.id === id);
      if (!member || !this.node) throw notFound();
      await this.node.request({ op: 'update', id, patch: patch(member) });
    }

    /** @type {SimRS['audioMute']} */
    audioMute(params) {
      return simulateCall('audioMute', [params], () => this.changeMember(params?.memberId, 'audio_mute', () => ({ audio_muted: true })));
    }

    /** @type {SimRS['audioUnmute']} */
    audioUnmute(params) {
      return simulateCall('audioUnmute', [params], () => this.changeMember(params?.memberId, 'audio_unmute', () => ({ audio_muted: false })));
    }

    /** @type {SimRS['videoMute']} */
    videoMute(params) {
      // Muting video also hides the member: the server changes both fields.
      return simulateCall('videoMute', [params], () => this.changeMember(params?.memberId, 'video_mute', () => ({ video_muted: true, visible: false })));
    }

    /** @type {SimRS['videoUnmute']} */
    videoUnmute(params) {
      return simulateCall('videoUnmute', [params], () => this.changeMember(params?.memberId, 'video_unmute', () => ({ video_muted: false, visible: true })));
    }

    /** @type {SimRS['deaf']} */
    deaf(params) {
      // Deafening mutes the microphone too, without the audio_mute permission.
      return simulateCall('deaf', [params], () => this.changeMember(params?.memberId, 'deaf', () => ({ deaf: true, audio_muted: true })));
    }

    /** @type {SimRS['undeaf']} */
    undeaf(params) {
      return simulateCall('undeaf', [params], () => this.changeMember(params?.memberId, 'undeaf', () => ({ deaf: false, audio_muted: false })));
    }

    /** @type {SimRS['setInputVolume']} */
    setInputVolume(params) {
      return simulateCall('setInputVolume', [params], () => this.changeMember(params.memberId, 'set_input_volume', () => ({ input_volume: params.volume })));
    }

    /** @type {SimRS['setOutputVolume']} */
    setOutputVolume(params) {
      return simulateCall('setOutputVolume', [params], () => this.changeMember(params.memberId, 'set_output_volume', () => ({ output_volume: params.volume })));
    }

    /** @type {SimRS['setInputSensitivity']} */
    setInputSensitivity(params) {
      return simulateCall('setInputSensitivity', [params], () => this.changeMember(params.memberId, 'set_input_sensitivity', () => ({ input_sensitivity: params.value })));
    }

    /** @type {SimRS['setRaisedHand']} */
    setRaisedHand(params) {
      const raised = params?.raised ?? true;
      const memberId = (params && 'memberId' in params ? params.memberId : undefined) || this.memberId;
      if (!memberId) throw new TypeError('Invalid or missing "memberId" argument');
      return simulateCall('setRaisedHand', [params], () => this.changeMember(memberId, raised ? 'raisehand' : 'lowerhand', () => ({ handraised: raised })));
    }

    /** @type {SimRS['setMemberMeta']} */
    setMemberMeta(params) {
      return simulateCall('setMemberMeta', [params], () => this.changeMember(params.memberId, 'set_meta', () => ({ meta: { ...params.meta } })));
    }

    /** @type {SimRS['removeMember']} */
    removeMember(params) {
      // The SDK throws before sending anything when memberId is missing.
      if (!params?.memberId) throw new TypeError('Invalid or missing "memberId" argument');
      return simulateCall('removeMember', [params], async () => {
        if (!this.node) throw new Error('Session does not exist!');
        if (!this.permissions.includes('room.member.remove')) throw denied();
        await this.node.request({ op: 'leave', id: params.memberId });
      });
    }

    /** @type {SimRS['removeAllMembers']} */
    removeAllMembers() {
      // Removes everyone, the caller included: the session ends for all.
      return simulateCall('removeAllMembers', [], async () => {
        if (!this.node) throw new Error('Session does not exist!');
        if (!this.permissions.includes('room.member.remove')) throw denied();
        await this.node.request({ op: 'end' });
      });
    }

    /** @type {SimRS['getMembers']} */
    getMembers() {
      return simulateCall('getMembers', [], () => {
        const members = (this.node?.room?.members || []).map(snapshot);
        // The SDK's type says camelCase members, but it resolves with the
        // server's snake_case ones; so does the simulator.
        return { members: /** @type {import('@signalwire/js').VideoMemberEntity[]} */ (/** @type {unknown} */ (members)) };
      });
    }

    // --- room methods ---------------------------------------------------

    /**
     * @param {string} permission
     * @param {SimOp} op
     */
    async changeRoom(permission, op) {
      if (!this.node) throw new Error('Session does not exist!');
      if (!this.permissions.includes(permission)) throw denied();
      await this.node.request(op);
    }

    /** @type {SimRS['getLayouts']} */
    getLayouts() {
      return simulateCall('getLayouts', [], () => {
        if (!this.permissions.includes('room.list_available_layouts')) throw denied();
        return { layouts: [...LAYOUTS] };
      });
    }

    /** @type {SimRS['setLayout']} */
    setLayout(params) {
      return simulateCall('setLayout', [params], async () => {
        if (!this.permissions.includes('room.set_layout')) throw denied();
        if (!LAYOUTS.includes(params?.name)) throw rpcError('400', `Invalid layout: ${params?.name}`);
        await this.changeRoom('room.set_layout', { op: 'layout', name: params.name });
      });
    }

    /** @type {SimRS['lock']} */
    lock() {
      return simulateCall('lock', [], () => this.changeRoom('room.lock', { op: 'room', patch: { locked: true } }));
    }

    /** @type {SimRS['unlock']} */
    unlock() {
      return simulateCall('unlock', [], () => this.changeRoom('room.unlock', { op: 'room', patch: { locked: false } }));
    }

    /** @type {SimRS['setHideVideoMuted']} */
    setHideVideoMuted(value) {
      const permission = value ? 'room.hide_video_muted' : 'room.show_video_muted';
      return simulateCall('setHideVideoMuted', [value], () => this.changeRoom(permission, { op: 'room', patch: { hideVideoMuted: !!value } }));
    }

    /** @type {SimRS['setMeta']} */
    setMeta(params) {
      return simulateCall('setMeta', [params], () => this.changeRoom('room.set_meta', { op: 'room', patch: { meta: { ...params } } }));
    }

    /** @type {SimRS['startRecording']} */
    startRecording() {
      return simulateCall('startRecording', [], async () => {
        /** @type {SimRecordingData} */
        const data = { id: uuid(), state: 'recording', started_at: Date.now() / 1000 };
        await this.changeRoom('room.recording', { op: 'recording', recording: data });
        const room = this.node?.room;
        if (!room) throw new Error('Session does not exist!');
        return this.recordingObject(data, room);
      });
    }

    /** @type {SimRS['getRecordings']} */
    getRecordings() {
      return simulateCall('getRecordings', [], () => {
        const room = this.node?.room;
        if (!room) throw new Error('Session does not exist!');
        if (!this.permissions.includes('room.recording')) throw denied();
        return { recordings: room.recordings.map((r) => this.recordingObject(r, room)) };
      });
    }

    /**
     * The RoomSessionRecording of this session for a recording of the room:
     * one object per recording, updated as its state changes, as the SDK
     * keeps them.
     * @param {SimRecordingData} data
     * @param {SimRoom} room
     * @returns {SimRecording}
     */
    recordingObject(data, room) {
      const known = this.recordingObjects.get(data.id);
      if (known) {
        known.set(data);
        return known.rec;
      }
      const session = this;
      let current = { ...data };
      /**
       * @param {'pause' | 'resume' | 'stop'} verb
       * @param {SimRecordingState} state
       */
      const control = (verb, state) => simulateCall(`recording.${verb}`, [], async () => {
        if (current.state === 'completed') throw rpcError('404', 'Recording not found');
        const next = { ...current, state, ended_at: state === 'completed' ? Date.now() / 1000 : undefined };
        await session.changeRoom('room.recording', { op: 'recording', recording: next });
      });
      /** @type {SimRecording} */
      const rec = {
        get id() { return current.id; },
        get roomSessionId() { return room.sessionId; },
        get state() { return current.state; },
        get startedAt() { return new Date(current.started_at * 1000); },
        get endedAt() { return current.ended_at ? new Date(current.ended_at * 1000) : undefined; },
        get duration() { return current.ended_at ? current.ended_at - current.started_at : undefined; },
        pause: () => control('pause', 'paused'),
        resume: () => control('resume', 'recording'),
        stop: () => control('stop', 'completed'),
        // The SDK's own way in; its type says Date where the server sends
        // seconds, so take either.
        setPayload(payload) {
          const r = payload.recording;
          /** @param {unknown} v */
          const seconds = (v) => (v instanceof Date ? v.getTime() / 1000 : typeof v === 'number' ? v : undefined);
          current = { id: r.id, state: r.state, started_at: seconds(r.started_at) ?? current.started_at, ended_at: seconds(r.ended_at) };
        },
      };
      this.recordingObjects.set(data.id, { rec, set: (next) => { current = { ...next }; } });
      return rec;
    }

    // --- screen share ---------------------------------------------------

    /** @type {SimRS['startScreenShare']} */
    startScreenShare(opts) {
      return simulateCall('startScreenShare', [opts], async () => {
        const node = this.node;
        const room = node?.room;
        if (!node || !room) throw new Error('Session does not exist!');
        if (!mayAct(this.permissions, 'screenshare', true)) throw denied();
        const self = room.members.find((m) => m.id === this.memberId);
        const member = newMember({ name: self?.name || 'screen', type: 'screen', parent_id: this.memberId }, room);
        await node.request({ op: 'join', member });
        return this.screenShareObject(member);
      });
    }

    /**
     * The object that startScreenShare resolves with: the parts of
     * RoomSessionScreenShare that the simulator implements.
     * @param {SimMember} member
     * @returns {SimScreenShare}
     */
    screenShareObject(member) {
      const session = this;
      /** @type {Map<string, Set<Function>>} */
      const listeners = new Map();
      let active = true;
      /**
       * @param {string} action
       * @param {Partial<SimMember>} patch
       */
      const change = (action, patch) => async () => {
        if (!mayAct(session.permissions, action, true)) throw denied();
        await session.node?.request({ op: 'update', id: member.id, patch });
      };
      /** @type {Pick<SimScreenShare, 'id' | 'memberId' | 'active' | 'leave' | 'join' | 'on' | 'once' | 'off' | 'audioMute' | 'audioUnmute' | 'videoMute' | 'videoUnmute' | 'setInputVolume' | 'setInputSensitivity'>} */
      const share = {
        id: member.id,
        memberId: member.id,
        get active() { return active; },
        join: () => simulateCall('screenShare.join', [], () => {}),
        leave: () => simulateCall('screenShare.leave', [], async () => {
          if (!active) return;
          active = false;
          await session.node?.request({ op: 'leave', id: member.id }).catch(() => {});
          for (const fn of listeners.get('room.left') || []) fn({ reason: undefined });
        }),
        on(event, fn) {
          if (!listeners.has(event)) listeners.set(event, new Set());
          listeners.get(event)?.add(fn);
          return /** @type {SimScreenShare} */ (/** @type {unknown} */ (share));
        },
        once(event, fn) {
          /** @type {Function} */
          const wrapped = (/** @type {unknown[]} */ ...args) => { listeners.get(event)?.delete(wrapped); /** @type {Function} */ (fn)(...args); };
          if (!listeners.has(event)) listeners.set(event, new Set());
          listeners.get(event)?.add(wrapped);
          return /** @type {SimScreenShare} */ (/** @type {unknown} */ (share));
        },
        off(event, fn) {
          if (fn) listeners.get(event)?.delete(fn);
          else listeners.delete(event);
          return /** @type {SimScreenShare} */ (/** @type {unknown} */ (share));
        },
        audioMute: () => simulateCall('screenShare.audioMute', [], change('audio_mute', { audio_muted: true })),
        audioUnmute: () => simulateCall('screenShare.audioUnmute', [], change('audio_unmute', { audio_muted: false })),
        videoMute: () => simulateCall('screenShare.videoMute', [], change('video_mute', { video_muted: true, visible: false })),
        videoUnmute: () => simulateCall('screenShare.videoUnmute', [], change('video_unmute', { video_muted: false, visible: true })),
        setInputVolume: (p) => simulateCall('screenShare.setInputVolume', [p], change('set_input_volume', { input_volume: p.volume })),
        setInputSensitivity: (p) => simulateCall('screenShare.setInputSensitivity', [p], change('set_input_sensitivity', { input_sensitivity: p.value })),
      };
      // Only part of the interface exists; the Pick above checks that part.
      return /** @type {SimScreenShare} */ (/** @type {unknown} */ (share));
    }
  }

  // ---------------------------------------------------------------------
  // WebRTC: device lists from the browser, filtered the way the SDK does.

  /** @typedef {typeof import('@signalwire/js').WebRTC} SimWebRTC */

  /**
   * @param {'camera' | 'microphone' | 'speaker'} name
   * @param {boolean} ask whether to prompt for permission first, as the *WithPermissions variants always may
   */
  async function devices(name, ask) {
    const kind = { camera: 'videoinput', microphone: 'audioinput', speaker: 'audiooutput' }[name];
    const md = navigator.mediaDevices;
    if (!md?.enumerateDevices) return [];
    let list = await md.enumerateDevices();
    // Labels stay empty until the page has permission; the SDK then asks for
    // a stream, enumerates again and stops the stream.
    if (ask && !list.some((d) => d.label)) {
      try {
        const stream = await md.getUserMedia({ audio: name !== 'camera', video: name === 'camera' });
        list = await md.enumerateDevices();
        stream.getTracks().forEach((t) => t.stop());
      } catch {
        // Permission refused: the list without labels is all there is.
      }
    }
    /** @type {string[]} */
    const seen = [];
    return list.filter((d) => {
      if (!d.deviceId || d.kind !== kind) return false;
      if (!d.groupId) return true;
      const key = `${d.kind}-${d.groupId}`;
      if (seen.includes(key)) return false;
      seen.push(key);
      return true;
    });
  }

  /** @type {Pick<SimWebRTC, 'getCameraDevices' | 'getMicrophoneDevices' | 'getSpeakerDevices' | 'getCameraDevicesWithPermissions' | 'getMicrophoneDevicesWithPermissions' | 'getSpeakerDevicesWithPermissions'>} */
  const WebRTC = {
    getCameraDevices: () => simulateCall('WebRTC.getCameraDevices', [], () => devices('camera', true)),
    getMicrophoneDevices: () => simulateCall('WebRTC.getMicrophoneDevices', [], () => devices('microphone', true)),
    getSpeakerDevices: () => simulateCall('WebRTC.getSpeakerDevices', [], () => devices('speaker', true)),
    getCameraDevicesWithPermissions: () => simulateCall('WebRTC.getCameraDevicesWithPermissions', [], () => devices('camera', true)),
    getMicrophoneDevicesWithPermissions: () => simulateCall('WebRTC.getMicrophoneDevicesWithPermissions', [], () => devices('microphone', true)),
    getSpeakerDevicesWithPermissions: () => simulateCall('WebRTC.getSpeakerDevicesWithPermissions', [], () => devices('speaker', true)),
  };

  // ---------------------------------------------------------------------
  // The global, and the test hook.

  /**
   * The methods that RoomSession implements, checked against the real type:
   * a name that the SDK lacks, or a signature that differs, fails tsc here.
   * @typedef {'on' | 'once' | 'off' | 'removeAllListeners' | 'emit' | 'join' | 'leave'
   *   | 'audioMute' | 'audioUnmute' | 'videoMute' | 'videoUnmute' | 'deaf' | 'undeaf'
   *   | 'setInputVolume' | 'setOutputVolume' | 'setInputSensitivity' | 'setRaisedHand'
   *   | 'setMemberMeta' | 'removeMember' | 'removeAllMembers' | 'getMembers' | 'getLayouts'
   *   | 'setLayout' | 'lock' | 'unlock' | 'setHideVideoMuted' | 'setMeta' | 'startRecording'
   *   | 'startScreenShare' | 'updateCamera' | 'updateMicrophone' | 'updateSpeaker'
   *   | 'memberId' | 'roomId' | 'roomSessionId' | 'callId' | 'active' | 'permissions'
   *   | 'interactivityMode' | 'leaveReason' | 'localStream'} SimImplemented
   */
  /** @type {new (opts: SimRSOptions) => Pick<SimRS, SimImplemented>} */
  const CheckedRoomSession = RoomSession;

  // Where the page ends without leave(), the others still see us go.
  window.addEventListener('pagehide', () => {
    for (const s of sessions) if (s.active) s.leaveNow();
  });

  Object.assign(window, {
    SignalWire: { Video: { RoomSession: CheckedRoomSession }, WebRTC },
  });

  /** @returns {RoomSession} the current joined session, for the hook */
  function current() {
    if (!lastSession?.node?.room || !lastSession.active) throw new Error('swsim: no joined RoomSession on this page');
    return lastSession;
  }

  /** @type {SwsimHook} */
  const hook = {
    emit(event, payload) {
      lastSession?.dispatch(event, payload);
    },
    calls: () => structuredClone(calls),
    clearCalls() {
      calls.length = 0;
    },
    async stopTimer() {
      autoplay = false;
      if (lastSession?.active && lastSession.node) await lastSession.node.request({ op: 'timer', on: false });
    },
    async startTimer() {
      autoplay = true;
      if (lastSession?.active && lastSession.node) await lastSession.node.request({ op: 'timer', on: true });
    },
    members: () => (lastSession?.active ? lastSession.node?.room?.members.map(snapshot) : undefined) || [],
    async addMember(partial) {
      const s = current();
      const room = /** @type {SimRoom} */ (s.node?.room);
      const member = newMember(partial || {}, room);
      await s.node?.request({ op: 'join', member });
      return snapshot(member);
    },
    async removeMember(id) {
      await current().node?.request({ op: 'leave', id });
    },
    async updateMember(id, patch) {
      const s = current();
      // Talking is not a field update for the SDK: it has events of its own.
      const { talking, ...rest } = patch;
      if (talking !== undefined) await s.node?.request({ op: 'talk', id, talking });
      if (Object.keys(rest).length > 0) await s.node?.request({ op: 'update', id, patch: rest });
      const m = s.node?.room?.members.find((x) => x.id === id);
      if (!m) throw new Error(`swsim: no member ${id}`);
      return snapshot(m);
    },
    rejectNext(method, error) {
      const queue = rejections.get(method) || [];
      queue.push(error === undefined ? denied() : error);
      rejections.set(method, queue);
    },
    session: () => /** @type {SimRS | null} */ (/** @type {unknown} */ (lastSession)),
  };
  window.__swsim = hook;
})();
