// @ts-check
// The side panel: its tabs (People, Room controls, and any a page adds),
// and whether it is open. On a phone it is a bottom sheet, closed until
// asked for; on a wider screen it sits beside the stage, open. The roster
// fragment inside is swapped by the server often, so the picked tab is
// kept here and applied again after every swap (apply).
//
// Adding a tab needs no code here: a tab button [role=tab][data-tab=X]
// in the tablist and an element [data-panel=X] inside the aside.

const phone = window.matchMedia('(max-width: 640px)');

const state = {
  /** The picked tab. */
  tab: 'people',
  /** Whether the panel shows; null until the user says, so the screen size decides. */
  /** @type {boolean | null} */ open: null,
};

/** @returns {HTMLElement | null} */
const aside = () => document.getElementById('side-panel');

/** Whether the panel shows now. */
export function isOpen() {
  return state.open ?? !phone.matches;
}

/** Shows the picked tab's panel, hides the others, and marks tabs and toolbar buttons. */
export function apply() {
  const root = aside();
  if (!root) return;
  root.dataset.open = String(isOpen());
  root.dataset.tab = state.tab;
  for (const tab of Array.from(root.querySelectorAll('[role="tab"][data-tab]'))) {
    const on = /** @type {HTMLElement} */ (tab).dataset.tab === state.tab;
    tab.setAttribute('aria-selected', String(on));
    tab.setAttribute('tabindex', on ? '0' : '-1');
  }
  for (const el of Array.from(root.querySelectorAll('[data-panel]'))) {
    /** @type {HTMLElement} */ (el).hidden = /** @type {HTMLElement} */ (el).dataset.panel !== state.tab;
  }
  for (const b of Array.from(document.querySelectorAll('[data-ui="panel"][data-tab]'))) {
    b.setAttribute('aria-expanded', String(isOpen() && /** @type {HTMLElement} */ (b).dataset.tab === state.tab));
  }
}

/**
 * Picks a tab (and opens the panel).
 * @param {string} tab
 * @param {{focus?: boolean}} [opts] focus moves to the tab
 */
function showTab(tab, opts = {}) {
  state.tab = tab;
  state.open = true;
  apply();
  if (opts.focus) document.getElementById(`tab-${tab}`)?.focus();
}

/** Closes the panel; focus returns to the toolbar button that opens it. */
function closePanel() {
  state.open = false;
  apply();
  /** @type {HTMLElement | null} */ (document.querySelector(`[data-ui="panel"][data-tab="${CSS.escape(state.tab)}"]`)
    || document.querySelector('[data-ui="panel"]'))?.focus();
}

/**
 * A click on a data-ui control of the panel or the toolbar.
 * @param {HTMLElement} el
 */
export function onPanelUI(el) {
  const ui = el.dataset.ui;
  const tab = el.dataset.tab || '';
  if (ui === 'tab') {
    showTab(tab);
  } else if (ui === 'panel') {
    // The toolbar button toggles: open on its tab, or close when it shows.
    if (isOpen() && state.tab === tab) closePanel();
    else showTab(tab, { focus: phone.matches });
  } else if (ui === 'close-panel') {
    closePanel();
  }
}

/**
 * Arrow keys move between tabs (the ARIA tabs pattern); Escape closes the
 * bottom sheet. Returns whether the key was used.
 * @param {KeyboardEvent} ev
 */
export function onPanelKey(ev) {
  const target = ev.target;
  if (target instanceof HTMLElement && target.getAttribute('role') === 'tab' && ['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(ev.key)) {
    const tabs = /** @type {HTMLElement[]} */ (Array.from(target.closest('[role="tablist"]')?.querySelectorAll('[role="tab"]') || []));
    const i = tabs.indexOf(target);
    const next = ev.key === 'Home' ? 0 : ev.key === 'End' ? tabs.length - 1 : (i + (ev.key === 'ArrowRight' ? 1 : -1) + tabs.length) % tabs.length;
    showTab(tabs[next].dataset.tab || 'people', { focus: true });
    return true;
  }
  if (ev.key === 'Escape' && phone.matches && isOpen() && target instanceof Node && aside()?.contains(target)) {
    closePanel();
    return true;
  }
  return false;
}

/** Follows the screen between phone and wider. */
export function setupPanel() {
  phone.addEventListener('change', () => {
    state.open = null;
    apply();
  });
  apply();
}
