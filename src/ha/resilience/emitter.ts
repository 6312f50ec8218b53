// A minimal synchronous event slot. Policies check `active` before building an event
// object, so an event nobody listens to costs one branch.

/** Receives an event. */
export type Listener<E> = (event: E) => void;

/** Called when a listener throws; the default drops the error. */
export type ListenerErrorHandler = (error: unknown) => void;

let listenerErrorHandler: ListenerErrorHandler = () => {};

/**
 * Sets where errors thrown by event listeners go. A listener's error must never change
 * the outcome of the call that emitted the event, so it is handed here instead.
 */
export function setListenerErrorHandler(handler: ListenerErrorHandler): void {
  listenerErrorHandler = handler;
}

/** A synchronous event with any number of listeners. */
export class Emitter<E> {
  private listeners: Listener<E>[] = [];

  /** True when at least one listener is subscribed. */
  get active(): boolean {
    return this.listeners.length > 0;
  }

  /** Subscribes `listener`; returns a function that unsubscribes it. */
  on(listener: Listener<E>): () => void {
    // Copy on write: an emit in progress keeps iterating over the array it started with.
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Calls every listener in order; a throwing listener goes to the error handler. */
  emit(event: E): void {
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(event);
      } catch (error) {
        try {
          listenerErrorHandler(error);
        } catch {
          // The handler itself failed: nothing sensible is left to do with the error.
        }
      }
    }
  }
}
