/**
 * PostgreSQL rows to sessions and back. The JSON columns are read as text and parsed here (not by `pg`'s type
 * parsers, which an application may have replaced), so a row that does not parse, or parses to the wrong shape, is
 * reported as a `SessionStoreError` naming the session and the table, and is never "repaired" by overwriting it.
 */
import type { AgentSession, RunOutput } from '../types.ts';
import { SessionStoreError } from './errors.ts';

/** A `sessions` row as the store selects it (the JSON and the bigints as text). */
export interface PgSessionRow {
  agent_id: string;
  user_id: string | null;
  state: string;
  version: number;
  run_count: number;
  /** How many times a stored run was replaced in place (a paused run, resumed), or the runs rewritten. */
  run_rewrites: number;
  created_at: string | number;
  updated_at: string | number;
}

export function parseState(row: PgSessionRow, sessionId: string, table: string): AgentSession['sessionState'] {
  const what = `sessionState (${table}.state)`;
  const state = parse(row.state, sessionId, what);
  if (state === null || typeof state !== 'object' || Array.isArray(state)) throw corrupt(sessionId, what, 'not a JSON object');
  return state;
}

/** A stored run, deep-frozen like the runs the agent hands the store (history and caches share it safely). */
export function parseRun(json: string, sessionId: string, table: string, seq: number): RunOutput {
  const where = `run ${seq} (${table}.data)`;
  const run = parse(json, sessionId, where) as RunOutput;
  if (
    run === null ||
    typeof run !== 'object' ||
    typeof run.runId !== 'string' ||
    typeof run.status !== 'string' ||
    typeof run.input?.inputContent === 'undefined'
  ) {
    throw corrupt(sessionId, where, 'not a RunOutput (runId, status, input)');
  }
  return deepFreeze(run);
}

/** An epoch-milliseconds column (`bigint`, which `pg` returns as text unless told otherwise). */
export function epochMs(value: string | number, sessionId: string, what: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw corrupt(sessionId, what, `not epoch milliseconds (${String(value)})`);
  return n;
}

/** JSON text of session data, or an error naming what could not be written. */
export function toJson(value: unknown, sessionId: string, what: string): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    throw new SessionStoreError(
      'UNSERIALIZABLE',
      `PostgresSessionStore: session "${sessionId}": ${what} cannot be stored as JSON (${(error as Error).message}); keep only JSON data (strings, numbers, booleans, null, arrays, plain objects) in it`,
      { sessionId, cause: error },
    );
  }
}

function parse(json: string, sessionId: string, what: string): unknown {
  try {
    return JSON.parse(json);
  } catch (error) {
    throw corrupt(sessionId, what, `not valid JSON: ${(error as Error).message}`, error);
  }
}

export function corrupt(sessionId: string, what: string, why: string, cause?: unknown): SessionStoreError {
  return new SessionStoreError(
    'CORRUPT_ROW',
    `PostgresSessionStore: session "${sessionId}" cannot be read: its ${what} is ${why}. Nothing was changed. ` +
      `Delete the session (store.delete(${JSON.stringify(sessionId)})) to start it afresh, or repair the row with psql`,
    { sessionId, cause },
  );
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}
