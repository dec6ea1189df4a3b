// @ts-check
// The call's device pickers (the toolbar's Devices popover): they start
// from what was picked before joining, switch the camera, microphone or
// speaker the SDK uses, and follow devices plugged in or out.

import { call } from './call.js';
import { fillPickers, onDevicesChanged, speakerSupported, switchDevice } from './devices.js';
import { pickedDevices } from './prejoin.js';
import { byId, byTestId, reason, show } from './ui.js';

/** @typedef {import('./devices.js').Pickers} Pickers */

/** @type {Pickers} */
const pickers = {
  camera: /** @type {HTMLSelectElement} */ (byId('call-camera-select')),
  mic: /** @type {HTMLSelectElement} */ (byId('call-mic-select')),
  speaker: /** @type {HTMLSelectElement} */ (byId('call-speaker-select')),
};

const WHAT = { camera: 'camera', mic: 'microphone', speaker: 'speaker' };

/**
 * Switches one kind of device in the call, saying so when it fails.
 * @param {keyof Pickers} key
 */
async function use(key) {
  const rs = call.session;
  const id = pickers[key].value;
  if (!rs || !id) return;
  show('device-error', '');
  pickers[key].setAttribute('aria-busy', 'true');
  try {
    await switchDevice(rs, key, id);
  } catch (err) {
    show('device-error', `Could not switch the ${WHAT[key]}: ${reason(err)}.`);
  } finally {
    pickers[key].removeAttribute('aria-busy');
  }
}

/** Fills the pickers for a call that just started, with the pre-join's picks selected. */
export async function startCallDevices() {
  const picked = pickedDevices();
  for (const key of /** @type {(keyof Pickers)[]} */ (['camera', 'mic', 'speaker'])) {
    if (picked[key]) pickers[key].replaceChildren(new Option(picked[key], picked[key], true, true));
  }
  await fillPickers(pickers);
}

export function setupCallDevices() {
  if (!speakerSupported) {
    pickers.speaker.hidden = true;
    byTestId('call-speaker-label')?.setAttribute('hidden', '');
  }
  for (const key of /** @type {(keyof Pickers)[]} */ (['camera', 'mic', 'speaker'])) {
    pickers[key].addEventListener('change', () => use(key));
  }
  onDevicesChanged(async () => {
    if (!call.session) return;
    const fellBack = await fillPickers(pickers);
    for (const key of fellBack) await use(key);
  });
}
