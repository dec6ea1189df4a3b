// @ts-check
// Before the call: the camera preview, the microphone meter, the device
// pickers and the name. What it learns (which devices exist, which the user
// picked) becomes the media options of the join.

import { fillPickers, onDevicesChanged, speakerSupported } from './devices.js';
import { byId, byTestId, reason, show } from './ui.js';

/** @typedef {{audio: boolean, video: boolean}} MediaAvailability */

const preview = /** @type {HTMLVideoElement} */ (byId('preview'));
const cameraSelect = /** @type {HTMLSelectElement} */ (byId('camera-select'));
const micSelect = /** @type {HTMLSelectElement} */ (byId('mic-select'));
const speakerSelect = /** @type {HTMLSelectElement} */ (byId('speaker-select'));
const cameraOff = /** @type {HTMLInputElement} */ (byId('join-camera-off'));
const micOff = /** @type {HTMLInputElement} */ (byId('join-mic-off'));
const meter = /** @type {HTMLMeterElement} */ (byId('mic-level'));

const state = {
  /** What Join asks the SDK for: all until the preview finds something missing. */
  /** @type {MediaAvailability} */ media: { audio: true, video: true },
  /** @type {MediaStream | null} */ stream: null,
  /** Counts preview starts and stops, so that a late stream is stopped, not shown. */
  gen: 0,
  /** @type {AudioContext | null} */ audioCtx: null,
  meterTimer: 0,
};

/** Whether this page may ask for camera and microphone at all. */
export const canUseMedia = () => window.isSecureContext && Boolean(navigator.mediaDevices);

export function setupPrejoin() {
  if (!speakerSupported) {
    speakerSelect.hidden = true;
    const label = byTestId('speaker-label');
    if (label) label.hidden = true;
  }
  if (!canUseMedia()) {
    // Browsers share camera and microphone only with secure origins; asking
    // would fail anyway, so explain instead and let people join to listen.
    state.media = { audio: false, video: false };
    byTestId('insecure-origin')?.removeAttribute('hidden');
    byTestId('preview-off')?.removeAttribute('hidden');
    return;
  }
  for (const el of [cameraSelect, micSelect, cameraOff, micOff]) {
    el.addEventListener('change', () => startPreview());
  }
  // A device plugged in shows up; one pulled out gives way to the default,
  // and the preview follows when it was showing that one.
  onDevicesChanged(async () => {
    if (byId('prejoin').hidden) return;
    const fellBack = await fillDevices();
    if (fellBack.some((k) => k !== 'speaker') && state.stream) startPreview();
  });
  startPreview();
}

/** The pre-join's picks, which the call's device pickers start from. */
export function pickedDevices() {
  return { camera: cameraSelect.value, mic: micSelect.value, speaker: speakerSelect.value };
}

/** The constraint for one kind of device: the picked one, or any. @param {HTMLSelectElement} select */
function constraint(select) {
  return select.value ? { deviceId: { exact: select.value } } : true;
}

/**
 * The media options of rs.join() (3.30 deprecates them on the constructor):
 * what to send, from the devices found and picked. Receiving is asked for
 * explicitly: join() derives receiveAudio/receiveVideo from audio/video when
 * they are not given, so a listener without a microphone would hear nothing.
 */
export function joinMedia() {
  return {
    audio: state.media.audio && constraint(micSelect),
    video: state.media.video && constraint(cameraSelect),
    receiveAudio: true,
    receiveVideo: true,
  };
}

/** The picked speaker, for the RoomSession's speakerId option; undefined for the default. */
export function speakerId() {
  return speakerSupported && speakerSelect.value ? speakerSelect.value : undefined;
}

/** Whether the user asked to join muted: the token carries it, so the server mutes at once. */
export function joinMuted() {
  return { audio_muted: micOff.checked, video_muted: cameraOff.checked };
}

/** (Re)starts the camera preview and the microphone meter for what is on. */
export async function startPreview() {
  stopPreview();
  const gen = state.gen;
  const wantVideo = !cameraOff.checked;
  const wantAudio = !micOff.checked;
  byTestId('preview-off')?.toggleAttribute('hidden', wantVideo);
  if (!wantVideo && !wantAudio) return;
  let stream;
  try {
    stream = await getMedia(wantVideo, wantAudio);
  } catch (err) {
    mediaError(err, wantVideo, wantAudio);
    return;
  }
  if (gen !== state.gen) {
    // Join (or another change) came first: this stream is not wanted.
    stream.getTracks().forEach((t) => t.stop());
    return;
  }
  state.stream = stream;
  if (stream.getVideoTracks().length > 0) {
    preview.srcObject = stream;
  } else {
    byTestId('preview-off')?.removeAttribute('hidden');
  }
  if (stream.getAudioTracks().length > 0) startMeter(stream);
  await fillDevices();
}

/**
 * Asks for both kinds at once (one prompt). When one is missing, asks for
 * each alone, so that a laptop without a camera still gets its microphone.
 * @param {boolean} video
 * @param {boolean} audio
 */
async function getMedia(video, audio) {
  const ask = (/** @type {boolean} */ v, /** @type {boolean} */ a) =>
    navigator.mediaDevices.getUserMedia({ video: v && constraint(cameraSelect), audio: a && constraint(micSelect) });
  try {
    const s = await ask(video, audio);
    show('media-error', '');
    return s;
  } catch (err) {
    if (!(err instanceof DOMException) || err.name === 'NotAllowedError' || !(video && audio)) throw err;
  }
  for (const v of [true, false]) {
    try {
      const s = await ask(v, !v);
      state.media = { video: v, audio: !v };
      show('media-error', v ? 'No microphone was found. You can join without one.' : 'No camera was found. You can join without one.');
      return s;
    } catch {
      // try the other kind
    }
  }
  throw new DOMException('no camera or microphone', 'NotFoundError');
}

/**
 * Explains why media failed, and notes that Join goes without it.
 * @param {unknown} err
 * @param {boolean} video
 * @param {boolean} audio
 */
function mediaError(err, video, audio) {
  const name = err instanceof DOMException ? err.name : '';
  state.media = { video: video ? false : state.media.video, audio: audio ? false : state.media.audio };
  let msg = `Your camera or microphone could not be started (${reason(err)}). You can still join.`;
  if (name === 'NotAllowedError') {
    state.media = { audio: false, video: false };
    msg = 'Your browser blocked the camera and microphone. Allow them in the site settings (the icon in the address bar) and reload, or join without them.';
  } else if (name === 'NotFoundError' || name === 'OverconstrainedError') {
    msg = 'No camera or microphone was found. Connect one and reload, or join without them.';
  } else if (name === 'NotReadableError') {
    msg = 'Your camera or microphone is in use by another application. Close it and reload, or join without them.';
  }
  show('media-error', msg);
  byTestId('preview-off')?.removeAttribute('hidden');
}

export function stopPreview() {
  state.gen += 1;
  state.stream?.getTracks().forEach((t) => t.stop());
  state.stream = null;
  preview.srcObject = null;
  clearInterval(state.meterTimer);
  state.meterTimer = 0;
  state.audioCtx?.close().catch(() => {});
  state.audioCtx = null;
  meter.value = 0;
}

/** Shows the microphone's level, so people see that they are heard. @param {MediaStream} stream */
function startMeter(stream) {
  try {
    const ctx = new AudioContext();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 512;
    ctx.createMediaStreamSource(stream).connect(analyser);
    const buf = new Float32Array(analyser.fftSize);
    state.audioCtx = ctx;
    // An interval, not animation frames: it keeps running in a hidden tab.
    state.meterTimer = window.setInterval(() => {
      analyser.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const x of buf) sum += x * x;
      meter.value = Math.min(1, Math.sqrt(sum / buf.length) * 4);
    }, 100);
  } catch {
    // No Web Audio: the meter stays at zero, which costs nothing else.
  }
}

/** Fills the device pickers; labels are only known once access is granted. */
function fillDevices() {
  return fillPickers({ camera: cameraSelect, mic: micSelect, speaker: speakerSelect });
}

/** The user's name as typed, or '' after showing why it cannot be used. */
export function checkedName() {
  const input = /** @type {HTMLInputElement} */ (byId('prejoin-name'));
  const name = input.value.trim();
  const n = [...name].length;
  if (n >= 1 && n <= 100) return name;
  show('join-error', n === 0 ? 'Enter your name to join.' : 'Your name can have at most 100 characters.');
  input.focus();
  return '';
}
