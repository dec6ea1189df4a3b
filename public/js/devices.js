// @ts-check
// Cameras, microphones and speakers: the pickers' options (before the call
// and in it), switching devices during the call through the SDK, and
// following devices plugged in or out (devicechange): a picker whose
// device is gone falls back to the default one, and so does the call.

/** @typedef {import('./sdk.js').RoomSession} RoomSession */
/** @typedef {{camera: HTMLSelectElement, mic: HTMLSelectElement, speaker: HTMLSelectElement}} Pickers */

/** Whether this browser can pick an audio output at all. */
export const speakerSupported = 'setSinkId' in HTMLMediaElement.prototype;

/** @type {[keyof Pickers, MediaDeviceKind, string][]} */
const KINDS = [['camera', 'videoinput', 'Camera'], ['mic', 'audioinput', 'Microphone'], ['speaker', 'audiooutput', 'Speaker']];

/**
 * Fills the pickers from what the browser lists now (labels are known
 * once access was granted). A picked device that is gone falls back to the
 * first one, the system default where there is one. Returns the kinds
 * whose picked device changed that way.
 * @param {Pickers} pickers
 * @returns {Promise<(keyof Pickers)[]>}
 */
export async function fillPickers(pickers) {
  let devices;
  try {
    devices = await navigator.mediaDevices.enumerateDevices();
  } catch {
    return [];
  }
  /** @type {(keyof Pickers)[]} */
  const fellBack = [];
  for (const [key, kind, noun] of KINDS) {
    const select = pickers[key];
    const current = select.value;
    const options = devices
      .filter((d) => d.kind === kind && d.deviceId)
      .map((d, i) => new Option(d.label || `${noun} ${i + 1}`, d.deviceId));
    if (options.length === 0) {
      select.replaceChildren(new Option(`No ${noun.toLowerCase()} found`, ''));
      select.disabled = true;
      if (current) fellBack.push(key);
      continue;
    }
    select.disabled = false;
    select.replaceChildren(...options);
    if (current && options.some((o) => o.value === current)) {
      select.value = current;
    } else if (current) {
      select.value = options[0].value;
      fellBack.push(key);
    }
  }
  return fellBack;
}

/**
 * Switches the call to the device a picker names.
 * @param {RoomSession} rs
 * @param {keyof Pickers} key
 * @param {string} deviceId
 */
export async function switchDevice(rs, key, deviceId) {
  if (key === 'camera') await rs.updateCamera({ deviceId: { exact: deviceId } });
  else if (key === 'mic') await rs.updateMicrophone({ deviceId: { exact: deviceId } });
  else await rs.updateSpeaker({ deviceId });
}

/**
 * Calls fn whenever devices are plugged in or out.
 * @param {() => void} fn
 */
export function onDevicesChanged(fn) {
  navigator.mediaDevices?.addEventListener('devicechange', fn);
}
