/** `hookchain/sessions`: the stores, their errors, and the types and helpers for writing a store. */
export { MemorySessionStore, type MemorySessionStoreOptions } from './memory.ts';
export { SqliteSessionStore, type SqliteSessionStoreOptions } from './sqlite.ts';
export { SessionConflictError, SessionStoreError, type SessionStoreErrorCode } from './errors.ts';
export { MAX_STORABLE_DEPTH, MAX_STORABLE_VALUES, assertStorable } from './storable.ts';
export { nextSessionVersion, type ListSessionsOptions, type MaybePromise, type SessionStore, type SessionSummary } from './store.ts';
