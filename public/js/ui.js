// @ts-check
// Small DOM helpers the island's modules share, and the page's config.

/**
 * The island's configuration, from the JSON script tag the server renders.
 * @typedef {{room: string, role: 'moderator' | 'guest', user: string, tokenURL: string,
 *   eventsURL: string, joinFailedURL?: string, csrf: string,
 *   invite?: {room: string, exp: number, sig: string}, sandbox?: boolean,
 *   layoutNames?: Record<string, string>}} Config
 */

/** @returns {Config} */
export function readConfig() {
  return JSON.parse(byId('room-config').textContent || '{}');
}

/** @param {string} id @returns {HTMLElement} */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`room.js: #${id} is missing from the page`);
  return el;
}

/** @param {string} testid @returns {HTMLElement | null} */
export function byTestId(testid) {
  return document.querySelector(`[data-testid="${testid}"]`);
}

/**
 * Shows text in an element (or hides it when text is empty).
 * @param {string} testid
 * @param {string} text
 */
export function show(testid, text) {
  const el = byTestId(testid);
  if (!el) return;
  el.textContent = text;
  el.hidden = text === '';
}

/** A sentence for a failure, from an Error, an SDK error object or anything. @param {unknown} err */
export function reason(err) {
  if (err && typeof err === 'object' && 'message' in err && typeof err.message === 'string' && err.message) {
    return err.message;
  }
  return typeof err === 'string' && err ? err : 'unknown error';
}

/**
 * The message of an error page or fragment the server answered with (its
 * [data-testid="error-message"], else all its text), trimmed.
 * @param {string} html
 */
export function errorText(html) {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const msg = doc.querySelector('[data-testid="error-message"]') || doc.body;
  return (msg?.textContent || '').trim();
}

/**
 * The name the roster shows for a member id (a device row's label for a
 * screen share); '' when the member has no row. The server's rows are the
 * island's only list of members.
 * @param {string} id
 */
export function rosterName(id) {
  if (!id) return '';
  const row = document.querySelector(`#roster-panel [data-member-id="${CSS.escape(id)}"]`);
  return row?.querySelector('.member-name')?.textContent?.trim() || '';
}

/**
 * A name as it goes into a sentence: between U+2068 (first strong isolate)
 * and U+2069 (pop directional isolate), so that a right-to-left name, or a
 * bidi control someone put in theirs, cannot reorder the words around it.
 * @param {string} name
 */
export function isolate(name) {
  return name ? `\u2068${name}\u2069` : name;
}

/**
 * Shows (or, with '', hides) the connection's status over the stage.
 * @param {string} text
 */
export function connectionStatus(text) {
  show('connection-status', text);
}
