// @ts-check
// The island's view of the SignalWire SDK's types, and its one way of
// subscribing to a RoomSession's events. The helper is generic over the SDK's
// own event map, so tsc rejects a misspelled event name and checks each
// handler's payload against what the SDK declares for that name.

/** @typedef {import('@signalwire/js').Video.RoomSession} RoomSession */
/** @typedef {import('@signalwire/js').RoomSessionScreenShare} ScreenShare */
/** The SDK's event map of a RoomSession: event name -> handler. */
/** @typedef {import('@signalwire/js').RoomSessionObjectEvents} RoomEvents */
/** @typedef {import('@signalwire/core').EventEmitter.EventNames<RoomEvents>} RoomEventName */
/**
 * The arguments the SDK hands a handler of event K.
 * @template {RoomEventName} K
 * @typedef {import('@signalwire/core').EventEmitter.ArgumentMap<RoomEvents>[K]} EventArgs
 */
/**
 * The first argument (the payload) of event K.
 * @template {RoomEventName} K
 * @typedef {EventArgs<K>[0]} Payload
 */

/**
 * Subscribes to the events of one RoomSession. The handlers run only while
 * live() says the session is still the page's current one, so that a late
 * event of a call the page has left does not reach the roster of the next.
 *
 * @param {RoomSession} rs
 * @param {() => boolean} live
 */
export function subscriber(rs, live) {
  /**
   * @template {RoomEventName} K
   * @param {K} name an event name of the SDK's map
   * @param {(...args: EventArgs<K>) => void} fn
   */
  return (name, fn) => {
    /** @param {EventArgs<K>} args */
    const guarded = (...args) => {
      if (live()) fn(...args);
    };
    rs.on(name, guarded);
  };
}
