// @ts-check
// Keeps keyboard focus on the control a person is using. The roster is the
// server's HTML and is swapped often (a whole panel, or single rows out of
// band), and a button is disabled while its SDK call runs: either takes
// focus away to <body>. This remembers which control had focus, by what it
// does rather than by node, and puts focus back on it, or on its
// counterpart once the state flipped ("Mute Ada" becomes "Unmute Ada"), or
// on the nearest thing left when it is gone.

/** @typedef {{action: string, memberId: string, id: string, inRow: string}} FocusKey */

/** The counterparts of each toggling action: what the same button may say after a press. */
/** @type {Record<string, string[]>} */
const FLIP = {
  'audio-mute': ['audio-unmute', 'ask-unmute'], 'audio-unmute': ['audio-mute'], 'ask-unmute': ['audio-mute'],
  'video-mute': ['video-unmute', 'ask-video-unmute'], 'video-unmute': ['video-mute'], 'ask-video-unmute': ['video-mute'],
  lock: ['unlock'], unlock: ['lock'],
  'start-recording': ['stop-recording'], 'stop-recording': ['start-recording'],
  'hide-video-muted': ['show-video-muted'], 'show-video-muted': ['hide-video-muted'],
};

/** @type {FocusKey | null} */
let want = null;

/** @param {Element} el @returns {FocusKey | null} */
function keyOf(el) {
  if (!(el instanceof HTMLElement)) return null;
  const row = el.closest('[data-testid="member"]');
  const k = {
    action: el.dataset.action || el.dataset.ui || '',
    memberId: el.dataset.memberId || '',
    id: el.id || '',
    inRow: row instanceof HTMLElement ? row.dataset.memberId || '' : '',
  };
  return k.action || k.id ? k : null;
}

/** @param {string} action @param {string} memberId */
function find(action, memberId) {
  const m = memberId ? `[data-member-id="${CSS.escape(memberId)}"]` : ':not([data-member-id])';
  return /** @type {HTMLElement | null} */ (document.querySelector(`[data-action="${CSS.escape(action)}"]${m}:not([hidden]), [data-ui="${CSS.escape(action)}"]:not([hidden])`));
}

/** Whether focus was lost: on the body, or on nothing. */
function lost() {
  const a = document.activeElement;
  return !a || a === document.body || !a.isConnected;
}

/**
 * Moves focus to the remembered control, or its replacement, if focus was
 * lost meanwhile. Call after every swap and after a pending call ends.
 */
export function restoreFocus() {
  if (!want || !lost()) return;
  const k = want;
  /** @type {HTMLElement | null} */
  let el = k.id ? document.getElementById(k.id) : null;
  if (k.action) {
    el = find(k.action, k.memberId);
    for (const other of FLIP[k.action] || []) el = el || find(other, k.memberId);
  }
  if (!el && k.inRow) {
    // The button is gone but its row is not (a hand lowered): the row's
    // first control, else the row's name.
    const row = document.querySelector(`[data-testid="member"][data-member-id="${CSS.escape(k.inRow)}"]`);
    el = /** @type {HTMLElement | null} */ (row?.querySelector('button:not([hidden])') || null);
  }
  if (!el && k.inRow) {
    // The member left: the list itself.
    el = document.getElementById('roster-heading');
    el?.setAttribute('tabindex', '-1');
  }
  if (!el || el.hidden || (el instanceof HTMLButtonElement && el.disabled) || (el instanceof HTMLSelectElement && el.disabled)) return;
  el.focus();
}

/**
 * Remembers the control that takes focus, and forgets when focus moves
 * somewhere the island does not manage or a click lands outside controls.
 */
export function setupFocus() {
  document.addEventListener('focusin', (ev) => {
    const t = ev.target instanceof Element ? ev.target : null;
    want = t && t.closest('#room') ? keyOf(t) : null;
  });
  document.addEventListener('pointerdown', (ev) => {
    const t = ev.target instanceof Element ? ev.target : null;
    if (!t?.closest('button, select, input, a, [tabindex]')) want = null;
  });
  // htmx's own swaps replace the control in use too ("New invite link"
  // swaps the whole invite box, itself included).
  document.addEventListener('htmx:afterSettle', () => restoreFocus());
}

/**
 * Focuses el now and remembers it, for controls the island moves focus to
 * itself (a confirmation, the end screen).
 * @param {HTMLElement | null} el
 */
export function focusOn(el) {
  if (!el) return;
  el.focus();
  want = keyOf(el);
}
