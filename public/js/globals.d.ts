// Globals shared by the browser scripts in public/js, typed from the SDK's
// own declarations so that tsc checks every use against @signalwire/js 3.30.0.
//
// The SDK ships as a UMD bundle that defines window.SignalWire and declares
// no global of its own; htmx, also a classic script, defines window.htmx.
// Both load before the island's modules (deferred classic scripts run in
// document order, before the module script at the end of the page).

import type * as SW from '@signalwire/js';

declare global {
  /** The @signalwire/js namespace, from vendor/signalwire-js-3.30.0.umd.js. */
  const SignalWire: typeof SW;

  /** The part of htmx 2 (vendor/htmx-2.0.11.min.js) that the island uses. */
  interface HtmxSwap {
    /** Swaps content into target; swapStyle "none" applies only the content's hx-swap-oob elements. */
    swap(target: string | Element, content: string, swapSpec: { swapStyle: string }): void;
  }

  interface Window {
    htmx?: HtmxSwap;
  }
}

export {};
