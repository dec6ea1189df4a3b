// Globals shared by the browser scripts in public/js, typed from the SDK's
// own declarations so that tsc checks every use against @signalwire/js 3.30.0.
//
// The SDK ships as a UMD bundle that defines window.SignalWire and declares
// no global of its own; the simulator (swsim.js) defines the same global.

import type * as SW from '@signalwire/js';

declare global {
  /** The @signalwire/js namespace, from vendor/signalwire-js-3.30.0.umd.js or swsim.js. */
  const SignalWire: typeof SW;

  /** A member as the SDK's events carry it: the server's snake_case fields. */
  type SwsimMember = SW.InternalVideoMemberEntity;

  /** Options that a page sets on window.__swsimOptions before swsim.js loads. */
  interface SwsimOptions {
    /** Whether simulated members talk, mute and come and go by themselves (default true). */
    autoplay?: boolean;
    /** The simulated members present when the first tab joins a room (default three). */
    members?: Partial<SwsimMember>[];
    /** Milliseconds between two steps of the simulated members (default 3000). */
    tickMs?: number;
    /** Milliseconds that each RoomSession method waits before it acts (default 20). */
    latencyMs?: number;
  }

  /** One call received by a simulated RoomSession (or by SignalWire.WebRTC). */
  interface SwsimCall {
    /** The method name, such as "audioMute", "recording.stop" or "WebRTC.getCameraDevices". */
    method: string;
    /** The arguments, copied through JSON (elements and streams become short labels). */
    args: unknown[];
  }

  /** The test hook that swsim.js puts on window.__swsim. */
  interface SwsimHook {
    /** Emits a raw event with any payload to the listeners of the current session. */
    emit(event: string, payload?: unknown): void;
    /** The calls received so far by every RoomSession of this page, oldest first. */
    calls(): SwsimCall[];
    /** Forgets the recorded calls. */
    clearCalls(): void;
    /** Stops the simulated members of the current room (and of rooms created later by this page). */
    stopTimer(): Promise<void>;
    /** Starts them again. */
    startTimer(): Promise<void>;
    /** The members of the current session's room, as snapshots. */
    members(): SwsimMember[];
    /** Adds a simulated member; missing fields get defaults. Resolves with the member. */
    addMember(partial?: Partial<SwsimMember>): Promise<SwsimMember>;
    /** Removes a member (and its screen shares and devices), as a moderator would. */
    removeMember(id: string): Promise<void>;
    /**
     * Changes fields of a member and emits the member.updated events for the
     * fields that changed; a change of `talking` emits the member.talking
     * events instead, as the SDK does.
     */
    updateMember(id: string, patch: Partial<SwsimMember>): Promise<SwsimMember>;
    /** Makes the next call of the named method (as calls() names it) reject with error, or with a 403 error. */
    rejectNext(method: string, error?: unknown): void;
    /** The RoomSession constructed last on this page, or null. */
    session(): SW.Video.RoomSession | null;
  }

  interface Window {
    __swsim?: SwsimHook;
    __swsimOptions?: SwsimOptions;
  }
}

export {};
