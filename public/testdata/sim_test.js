// Helpers for swsim_browser_test.go: create and join sessions, record every
// event they emit, and wait for one.
'use strict';

// Every event name the simulator may emit, plus camelCase per-field names
// that the real SDK never emits, so that a test can check they stay silent.
const EVENTS = [
  'room.subscribed', 'room.joined', 'room.updated', 'room.left',
  'member.joined', 'member.left', 'member.updated',
  'member.updated.audio_muted', 'member.updated.video_muted', 'member.updated.visible',
  'member.updated.deaf', 'member.updated.handraised', 'member.updated.input_volume',
  'member.updated.output_volume', 'member.updated.input_sensitivity', 'member.updated.meta',
  'member.updated.audioMuted', 'member.updated.videoMuted',
  'member.talking', 'member.talking.started', 'member.talking.ended',
  'member.talking.start', 'member.talking.stop',
  'memberList.updated', 'layout.changed',
  'recording.started', 'recording.updated', 'recording.ended',
];

window.simTest = {
  /** @type {{name: string, payload: any, session: number}[]} */
  events: [],
  /** @type {any[]} */
  sessions: [],

  /** Creates a session that records its events; returns its index. */
  create(token, extra = {}) {
    const rs = new SignalWire.Video.RoomSession({
      token, rootElement: document.getElementById('root'), audio: true, video: true, ...extra,
    });
    const index = this.sessions.push(rs) - 1;
    for (const name of EVENTS) {
      rs.on(name, (payload) => {
        this.events.push({ name, payload: JSON.parse(JSON.stringify(payload ?? null)), session: index });
      });
    }
    return index;
  },

  /** Creates and joins a session; resolves with what the test checks. */
  async join(token, extra) {
    const i = this.create(token, extra);
    const rs = this.sessions[i];
    const result = await rs.join();
    return {
      index: i, same: result === rs, memberId: rs.memberId, roomId: rs.roomId,
      roomSessionId: rs.roomSessionId, callId: rs.callId, permissions: rs.permissions, active: rs.active,
    };
  },

  /** The last session. */
  get rs() {
    return this.sessions[this.sessions.length - 1];
  },

  clear() {
    this.events = [];
  },

  named(name) {
    return this.events.filter((e) => e.name === name).map((e) => e.payload);
  },

  /** Resolves with the payload of the first recorded event that matches. */
  waitFor(name, pred = () => true, ms = 5000) {
    const deadline = Date.now() + ms;
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.events.find((e) => e.name === name && pred(e.payload));
        if (hit) return resolve(hit.payload);
        if (Date.now() > deadline) {
          return reject(new Error(`no ${name} event; got ${this.events.map((e) => e.name).join(', ')}`));
        }
        setTimeout(check, 10);
      };
      check();
    });
  },

  /** Runs fn and reports how it settled, with a plain copy of the error. */
  async settle(fn) {
    try {
      const value = await fn();
      return { ok: true, value: JSON.parse(JSON.stringify(value ?? null)) };
    } catch (e) {
      const error = e instanceof Error ? { name: e.name, message: e.message, code: e.code } : e;
      return { ok: false, error };
    }
  },
};
