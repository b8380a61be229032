/**
 * What a session store throws when its data cannot be trusted or would be overwritten. Each error names the session
 * or the file and says what to do; the store has changed nothing when it throws one.
 */
import { HookchainError, brand } from '../errors.ts';

/** The `code` of a `SessionStoreError`: what is wrong with the stored data or the store. */
export type SessionStoreErrorCode =
  /** The file is not a SQLite database, or SQLite found it damaged. */
  | 'CORRUPT_DATABASE'
  /** A SQLite database, but another application's. */
  | 'FOREIGN_DATABASE'
  /** Written by a newer hookchain whose schema this version does not know. */
  | 'NEWER_SCHEMA'
  /** One session's stored row does not parse or has the wrong shape. */
  | 'CORRUPT_ROW'
  /** `sessionState` or a run holds what JSON cannot store and read back unchanged (a cycle, a BigInt, a Date…). */
  | 'UNSERIALIZABLE'
  /** Someone else saved the session after it was read (see `SessionConflictError`). */
  | 'SESSION_CONFLICT'
  /** The file cannot be opened at all (a directory, no permission…). */
  | 'CANNOT_OPEN'
  /** `close()` was called. */
  | 'STORE_CLOSED';

/**
 * A session store could not read or write (a corrupt or foreign file, a newer schema, a value JSON cannot keep, a
 * closed store…). `code` says which; the message names the session or file and the fix. The store changed
 * nothing.
 */
export class SessionStoreError extends HookchainError {
  declare readonly code: SessionStoreErrorCode;
  /** The session concerned, when one is. */
  readonly sessionId: string | undefined;
  /** The database file concerned, when the store has one. */
  readonly path: string | undefined;
  /** `UNSERIALIZABLE`: where the offending value is, e.g. `sessionState.cart[3].self`. */
  readonly jsonPath: string | undefined;

  /**
   * Thrown by the stores; a custom store may throw it too, with one of the codes.
   *
   * @param code What is wrong.
   * @param message What happened, naming the session or file and the fix.
   * @param details `sessionId`, `path` and `jsonPath` where they apply; `cause`: the underlying error.
   */
  constructor(
    code: SessionStoreErrorCode,
    message: string,
    details: { sessionId?: string; path?: string; jsonPath?: string; cause?: unknown } = {},
  ) {
    super(code, message, details);
    this.sessionId = details.sessionId;
    this.path = details.path;
    this.jsonPath = details.jsonPath;
  }
}
brand(SessionStoreError);

/**
 * `save()` found a version other than the one the session was read at: another process (or another store object on
 * the same file) saved it in between. Nothing was written; the other writer's data stands.
 */
export class SessionConflictError extends SessionStoreError {
  /** The version the caller read (0: it believed the session new). */
  readonly expectedVersion: number;
  /** The version the store holds now. */
  readonly storedVersion: number;

  /**
   * Thrown by `save()` through `nextSessionVersion`.
   *
   * @param sessionId The session concerned.
   * @param expectedVersion The version the caller read (0: it believed the session new).
   * @param storedVersion The version the store holds now.
   * @param path The database file, for a file store.
   */
  constructor(sessionId: string, expectedVersion: number, storedVersion: number, path?: string) {
    super(
      'SESSION_CONFLICT',
      `session "${sessionId}" was saved by someone else while this run used it (read at version ${expectedVersion}, the store now holds version ${storedVersion}); ` +
        'nothing was overwritten. Run again to continue from the stored session, and send runs of one session to one process (or one store object)',
      { sessionId, ...(path === undefined ? {} : { path }) },
    );
    this.expectedVersion = expectedVersion;
    this.storedVersion = storedVersion;
  }
}
brand(SessionConflictError);
