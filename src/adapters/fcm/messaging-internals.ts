// firebase-admin 13.10's non-public message validation, error mapping and deep copy, which the http2-session
// transport runs around its own requests as Messaging.send() does around its.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface FirebaseMessagingInternals {
  /** Throws firebase-admin's FirebaseMessagingError for an invalid message; rewrites a valid one to wire form. */
  validateMessage(message: object): void;
  /** firebase-admin's mapping of an FCM error answer (RequestResponseError shape) to a FirebaseMessagingError. */
  createFirebaseError(error: { response: { status: number; data: unknown; text: string; isJson(): boolean } }): Error;
  deepCopy<T>(value: T): T;
}

let messagingInternals: FirebaseMessagingInternals | undefined;

/**
 * The package's `exports` map refuses deep imports (`firebase-admin/lib/messaging/messaging-internal.js` →
 * ERR_PACKAGE_PATH_NOT_EXPORTED) and its public API has no validate-only call that does not send. So the files are
 * loaded by path next to the public entry point (require.resolve('firebase-admin/messaging') →
 * lib/messaging/index.js): the same CommonJS module instances the public API uses (its ESM entry re-exports the
 * CommonJS build), so errors are the same FirebaseMessagingError class. The version is pinned; a change that moves
 * them fails here when the sender is created, and in the tests.
 */
export function firebaseMessagingInternals(): FirebaseMessagingInternals {
  if (messagingInternals) return messagingInternals;
  const require = createRequire(import.meta.url);
  const messagingDir = dirname(require.resolve('firebase-admin/messaging'));
  const load = (file: string, fn: string): ((...args: never[]) => unknown) => {
    const exported = (require(join(messagingDir, file)) as Record<string, unknown>)[fn];
    if (typeof exported !== 'function') throw new Error(`firebase-admin internals changed: ${fn} not found in ${file}; review src/adapters/fcm/messaging-internals.ts`);
    return exported as (...args: never[]) => unknown;
  };
  messagingInternals = {
    validateMessage: load('messaging-internal.js', 'validateMessage') as FirebaseMessagingInternals['validateMessage'],
    createFirebaseError: load('messaging-errors-internal.js', 'createFirebaseError') as FirebaseMessagingInternals['createFirebaseError'],
    deepCopy: load('../utils/deep-copy.js', 'deepCopy') as FirebaseMessagingInternals['deepCopy'],
  };
  return messagingInternals;
}
