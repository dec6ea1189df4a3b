// @ts-check
// The chat panel's behaviour (issue 16). Messages are the server's HTML,
// swapped in by htmx from the stream; this module only adds what HTML
// cannot: Enter sends (Shift+Enter is a new line), an unread count on the
// Chat tab while another tab is shown, and a screen reader announcement
// of other people's messages.

/**
 * @typedef {object} ChatOptions
 * @property {Element} panel the chat panel ([data-testid="chat"])
 * @property {Element | null} badge the unread badge on the Chat tab
 * @property {() => boolean} visible whether the chat panel is shown now
 * @property {() => string} self the name this page joined with
 */

/** @param {ChatOptions} o */
export function setupChat(o) {
  let unread = 0;
  const setBadge = () => {
    if (!o.badge) return;
    o.badge.textContent = unread ? String(unread) : '';
    o.badge.toggleAttribute('hidden', unread === 0);
    o.badge.setAttribute('aria-label', unread === 1 ? '1 unread message' : `${unread} unread messages`);
  };

  o.panel.addEventListener('keydown', (ev) => {
    const e = /** @type {KeyboardEvent} */ (ev);
    const input = e.target;
    if (!(input instanceof HTMLTextAreaElement) || input.name !== 'message') return;
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (input.value.trim()) input.form?.requestSubmit();
    }
  });

  // A sent message comes back as an empty form (or the form with its
  // error), swapped in: the focus stays in it, to type the next one.
  let typing = false;
  o.panel.addEventListener('htmx:beforeSwap', () => {
    typing = Boolean(o.panel.querySelector('#chat-form')?.contains(document.activeElement));
  });
  o.panel.addEventListener('htmx:afterSwap', () => {
    if (typing) /** @type {HTMLElement | null} */ (o.panel.querySelector('#chat-input'))?.focus();
    typing = false;
  });

  // One chat event is one message appended to the log.
  o.panel.addEventListener('htmx:sseMessage', (ev) => {
    const msg = /** @type {CustomEvent<MessageEvent>} */ (ev).detail;
    if (!msg || msg.type !== 'chat') return;
    const items = o.panel.querySelectorAll('[data-testid="chat-message"]');
    const last = items[items.length - 1];
    const author = last?.querySelector('[data-testid="chat-author"]')?.textContent?.trim() || '';
    const text = last?.querySelector('[data-testid="chat-text"]')?.textContent?.trim() || '';
    if (author && author !== o.self()) {
      say(o.panel, `${author} says: ${text}`);
      if (!o.visible()) {
        unread += 1;
        setBadge();
      }
    }
    const log = o.panel.querySelector('#chat-log');
    if (log && o.visible()) log.lastElementChild?.scrollIntoView({ block: 'nearest' });
  });

  return {
    /** The chat tab was opened: everything is read. */
    seen() {
      unread = 0;
      setBadge();
    },
  };
}

/**
 * Announces text in the panel's polite live region, a new node each time.
 * @param {Element} panel
 * @param {string} text
 */
function say(panel, text) {
  const region = panel.querySelector('#chat-announce');
  if (!region) return;
  const p = document.createElement('span');
  p.textContent = text.length > 300 ? `${text.slice(0, 300)}…` : text;
  region.replaceChildren(p);
}
