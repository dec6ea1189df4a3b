// @ts-check
// SDK payloads -> the wire format of roster/WIRE.md. Pure functions, no DOM.
//
// The SDK hands its handlers two spellings of the same things: @signalwire/js
// 3.30.0 passes the server's snake_case objects through in its events and in
// getMembers() (core's getMembers resolves with payload.members as received),
// while its own contracts (VideoMemberContract, VideoRoomSessionContract) and
// other SignalWire SDKs spell them in camelCase. Each reader here takes
// either, and writes only the keys WIRE.md defines. A field the payload does
// not carry is left out, never defaulted: on the wire an absent key means
// "not said", and a partial member.updated must not reset what it omits.
// Values outside WIRE.md's bounds are dropped (or, for display strings,
// clipped), so that the server's strict decoder never refuses a batch for
// something the SDK handed us.

/** @typedef {import('./sdk.js').RoomEventName} RoomEventName */
/**
 * @template {RoomEventName} K
 * @typedef {import('./sdk.js').Payload<K>} Payload
 */

/**
 * A member on the wire: only id is required.
 * @typedef {{id: string, name?: string, type?: string, parent_id?: string,
 *   audio_muted?: boolean, video_muted?: boolean, deaf?: boolean, visible?: boolean,
 *   handraised?: boolean, talking?: boolean}} WireMember
 */
/**
 * The room on the wire: every key optional.
 * @typedef {{layout_name?: string, locked?: boolean, recording?: boolean, hide_video_muted?: boolean}} WireRoom
 */

const MAX_ID_BYTES = 64;
const MAX_TYPE_BYTES = 32;
const MAX_NAME_CHARS = 100;

/** The member booleans: wire key, then the camelCase spelling. */
const MEMBER_FLAGS = /** @type {const} */ ([
  ['audio_muted', 'audioMuted'],
  ['video_muted', 'videoMuted'],
  ['deaf', 'deaf'],
  ['visible', 'visible'],
  ['handraised', 'handraised'],
  ['talking', 'talking'],
]);

/** The room booleans: wire key, then the camelCase spelling. */
const ROOM_FLAGS = /** @type {const} */ ([
  ['locked', 'locked'],
  ['recording', 'recording'],
  ['hide_video_muted', 'hideVideoMuted'],
]);

const encoder = new TextEncoder();

/** @param {string} s */
const utf8Length = (s) => encoder.encode(s).length;

/**
 * Reads an object's fields without trusting its type: SDK payloads may be
 * class instances (getters count, methods are never read) or null.
 * @param {unknown} v
 * @returns {Record<string, unknown> | null}
 */
function fields(v) {
  return v !== null && typeof v === 'object' ? /** @type {Record<string, unknown>} */ (v) : null;
}

/**
 * The first of the spellings that holds a value of the wanted kind.
 * @param {Record<string, unknown>} o
 * @param {string} snake
 * @param {string} camel
 * @param {'string' | 'boolean'} kind
 */
function read(o, snake, camel, kind) {
  for (const key of [snake, camel]) {
    const v = o[key];
    if (typeof v === kind) return /** @type {string | boolean} */ (v);
  }
  return undefined;
}

/** @param {string} s at most MAX_NAME_CHARS characters, cut on a code point */
function clip(s) {
  const chars = Array.from(s);
  return chars.length > MAX_NAME_CHARS ? chars.slice(0, MAX_NAME_CHARS).join('') : s;
}

/** A member id as the wire bounds it, else undefined. @param {unknown} v */
function memberId(v) {
  return typeof v === 'string' && v !== '' && utf8Length(v) <= MAX_ID_BYTES ? v : undefined;
}

/**
 * A member in either spelling -> a wire member, or null without a usable id.
 * @param {unknown} raw
 * @returns {WireMember | null}
 */
export function member(raw) {
  const o = fields(raw);
  const id = o && memberId(o.id);
  if (!o || !id) return null;
  /** @type {WireMember} */
  const m = { id };
  const name = read(o, 'name', 'name', 'string');
  if (typeof name === 'string') m.name = clip(name);
  const type = read(o, 'type', 'type', 'string');
  if (typeof type === 'string' && type !== '' && utf8Length(type) <= MAX_TYPE_BYTES) m.type = type;
  const parent = read(o, 'parent_id', 'parentId', 'string');
  // The SDK sends null (or nothing) for a member without a parent.
  if (typeof parent === 'string' && parent !== '' && utf8Length(parent) <= MAX_ID_BYTES) m.parent_id = parent;
  for (const [key, camel] of MEMBER_FLAGS) {
    const v = read(o, key, camel, 'boolean');
    if (typeof v === 'boolean') m[key] = v;
  }
  return m;
}

/**
 * A list of members: entries without a usable id are left out.
 * @param {unknown} list
 * @returns {WireMember[] | undefined} undefined when list is not an array
 */
export function members(list) {
  if (!Array.isArray(list)) return undefined;
  /** @type {WireMember[]} */
  const out = [];
  for (const raw of list) {
    const m = member(raw);
    if (m) out.push(m);
  }
  return out;
}

/**
 * A room session in either spelling -> a wire room.
 * @param {unknown} raw
 * @returns {WireRoom}
 */
export function room(raw) {
  const o = fields(raw);
  /** @type {WireRoom} */
  const r = {};
  if (!o) return r;
  const layout = read(o, 'layout_name', 'layoutName', 'string');
  if (typeof layout === 'string') r.layout_name = clip(layout);
  for (const [key, camel] of ROOM_FLAGS) {
    const v = read(o, key, camel, 'boolean');
    if (typeof v === 'boolean') r[key] = v;
  }
  return r;
}

// ---------------------------------------------------------------- events
// One function per forwarded event, typed with the SDK's payload for that
// name, so that the primary (snake_case) fields are read as the SDK declares
// them; the camelCase alternative is read loosely. Each returns the event's
// wire data, or null when the payload holds nothing the server could use.

/**
 * room.joined (the SDK's alias of video.room.subscribed): the viewer's own
 * id, the room, and the members when the payload has them. Without a list
 * the key is left out, and the server asks for a snapshot.
 * @param {Payload<'room.joined'>} p
 * @param {string} [fallbackId] the session's memberId, for a payload without member_id
 */
export function roomJoined(p, fallbackId) {
  const o = fields(p);
  if (!o) return null;
  const id = memberId(o.member_id) ?? memberId(o.memberId) ?? memberId(fallbackId);
  if (!id) return null;
  const session = fields(p.room_session) ?? fields(o.roomSession) ?? fields(p.room);
  /** @type {{member_id: string, room: WireRoom, members?: WireMember[]}} */
  const data = { member_id: id, room: room(session) };
  const list = members(session?.members);
  if (list) data.members = list;
  return data;
}

/**
 * members.snapshot: the answer to the server's X-Roster-Snapshot, from
 * getMembers(), whose members are the server's snake_case objects.
 * @param {unknown} list
 * @param {string} [selfId]
 */
export function snapshot(list, selfId) {
  /** @type {{member_id?: string, members: WireMember[]}} */
  const data = { members: members(list) ?? [] };
  const id = memberId(selfId);
  if (id) data.member_id = id;
  return data;
}

/** @param {unknown} raw */
function memberData(raw) {
  const m = member(raw);
  return m && { member: m };
}

/** member.joined: the whole member. @param {Payload<'member.joined'>} p */
export const memberJoined = (p) => memberData(p?.member);

/**
 * member.updated: the SDK emits it twice for one server update, first the
 * member merged with what it knew, then the server's partial member (only
 * the changed fields plus `updated`); both are merges on the server.
 * @param {Payload<'member.updated'>} p
 */
export const memberUpdated = (p) => memberData(p?.member);

/** member.left: the id is all the server needs. @param {Payload<'member.left'>} p */
export function memberLeft(p) {
  const id = memberId(fields(p?.member)?.id);
  return id ? { member: { id } } : null;
}

/** member.talking: id and talking only. @param {Payload<'member.talking'>} p */
export function memberTalking(p) {
  const o = fields(p?.member);
  const id = o && memberId(o.id);
  if (!o || !id || typeof o.talking !== 'boolean') return null;
  return { member: { id, talking: o.talking } };
}

/** room.updated: the room fields present. @param {Payload<'room.updated'>} p */
export function roomUpdated(p) {
  const o = fields(p);
  if (!o) return null;
  return { room: room(fields(p.room_session) ?? fields(o.roomSession) ?? fields(p.room)) };
}

/** layout.changed: the layout's name. @param {Payload<'layout.changed'>} p */
export function layoutChanged(p) {
  const o = fields(p);
  const name = read(fields(o?.layout) ?? {}, 'name', 'name', 'string') ?? (o && read(o, 'layout_name', 'layoutName', 'string'));
  return typeof name === 'string' ? { layout_name: clip(name) } : null;
}

/** recording.started: on. The payload is a recording object; nothing of it is sent. */
export const recordingStarted = () => ({});

/** recording.ended: off. */
export const recordingEnded = () => ({});

const RECORDING_STATES = ['recording', 'paused', 'completed'];

/**
 * recording.updated: the state, read through the recording object's getter.
 * @param {Payload<'recording.updated'>} r
 */
export function recordingUpdated(r) {
  const state = fields(r)?.state;
  return typeof state === 'string' && RECORDING_STATES.includes(state) ? { state } : null;
}

/** room.left: why, when the SDK says. @param {Payload<'room.left'>} p */
export function roomLeft(p) {
  const reason = fields(p)?.reason;
  return typeof reason === 'string' && reason !== '' ? { reason } : {};
}

/** room.ended: the meeting is over. */
export const roomEnded = () => ({});

/**
 * The normaliser of each forwarded event, by the SDK's event name (which is
 * also the wire name). The fixture test in Chromium goes through this table.
 */
export const byEvent = {
  'room.joined': roomJoined,
  'member.joined': memberJoined,
  'member.updated': memberUpdated,
  'member.left': memberLeft,
  'member.talking': memberTalking,
  'room.updated': roomUpdated,
  'layout.changed': layoutChanged,
  'recording.started': recordingStarted,
  'recording.updated': recordingUpdated,
  'recording.ended': recordingEnded,
  'room.left': roomLeft,
  'room.ended': roomEnded,
};
