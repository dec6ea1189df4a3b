// @ts-check
// The roster must not move under a person's pointer or keyboard focus: a
// raised hand or a new member reorders the server's list, and a row that
// jumps away as it is clicked gets the wrong click. While the pointer is
// over the list or focus is in it, the rows keep the visual order they had
// (CSS order on the flex column, from a constructed stylesheet: no style
// attributes, so the CSP needs no 'unsafe-inline'); the DOM, which the
// server's out-of-band swaps address, stays in the server's order. When
// the pointer and focus leave, the list shows the server's order again.

const sheet = new CSSStyleSheet();
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

const state = {
  hovered: false,
  focused: false,
  /** Row ids in the order shown when the list froze; null while not frozen. */
  /** @type {string[] | null} */ order: null,
};

const list = () => document.getElementById('roster-list');

/** The rows' element ids in DOM order. */
function rowIds() {
  const l = list();
  return l ? Array.from(l.children, (el) => el.id).filter(Boolean) : [];
}

/** Re-applies the held order after a swap (rows new since then go last). */
export function holdOrder() {
  if (!state.order) {
    sheet.replaceSync('');
    return;
  }
  const ids = rowIds();
  const known = state.order.filter((id) => ids.includes(id));
  const fresh = ids.filter((id) => !known.includes(id));
  const moved = ids.some((id, i) => known[i] !== id);
  if (!moved && fresh.length === 0) {
    sheet.replaceSync('');
    return;
  }
  const rules = [...known, ...fresh].map((id, i) => `#${CSS.escape(id)} { order: ${i}; }`);
  sheet.replaceSync(rules.join('\n'));
}

function update() {
  const hold = state.hovered || state.focused;
  if (hold && !state.order) {
    state.order = rowIds();
  } else if (!hold && state.order) {
    state.order = null;
  }
  holdOrder();
}

/** Watches pointer and focus on the roster panel (delegated: the list is swapped). */
export function setupFreeze() {
  const panel = document.getElementById('roster-panel');
  if (!panel) return;
  panel.addEventListener('pointerover', (ev) => {
    const inList = ev.target instanceof Element && Boolean(ev.target.closest('#roster-list'));
    if (inList !== state.hovered) {
      state.hovered = inList;
      update();
    }
  });
  panel.addEventListener('pointerleave', () => {
    state.hovered = false;
    update();
  });
  document.addEventListener('focusin', (ev) => {
    const inList = ev.target instanceof Element && Boolean(ev.target.closest('#roster-list'));
    if (inList !== state.focused) {
      state.focused = inList;
      update();
    }
  });
}

/** Lets go, for the end of a call. */
export function releaseOrder() {
  state.hovered = false;
  state.focused = false;
  state.order = null;
  sheet.replaceSync('');
}
