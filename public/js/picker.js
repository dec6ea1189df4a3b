// @ts-check
// The room picker's one script. Live validation (htmx) swaps a field's
// message in; this keeps the field's aria-invalid in step with it, so that
// a screen reader hears "invalid" exactly while a message is shown. The
// form works without it: the server renders aria-invalid on a submit.

document.body.addEventListener('htmx:afterSettle', () => {
  for (const msg of Array.from(document.querySelectorAll('.field-error[id]'))) {
    const input = document.querySelector(`[aria-describedby~="${CSS.escape(msg.id)}"]`);
    if (!input) continue;
    if ((msg.textContent || '').trim()) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
});
