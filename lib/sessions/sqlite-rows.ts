/**
 * Rows to sessions and back. A row that does not parse, or parses to the wrong shape, is reported with the session
 * and the file named, and is never "repaired" by overwriting it.
 */
import type { AgentSession, RunOutput } from '../types.ts';
import { SessionStoreError } from './errors.ts';

export interface SessionRow {
  agent_id: string;
  user_id: string | null;
  state: string;
  version: number;
  run_count: number;
  /** How many times a stored run was replaced in place (a paused run, resumed). */
  run_rewrites: number;
  created_at: number;
  updated_at: number;
}

export function parseState(row: SessionRow, sessionId: string, path: string): AgentSession['sessionState'] {
  const state = parse(row.state, sessionId, path, 'sessionState (sessions.state)');
  if (state === null || typeof state !== 'object' || Array.isArray(state)) {
    throw corrupt(sessionId, path, 'sessionState (sessions.state)', 'not a JSON object');
  }
  return state;
}

/** A stored run, deep-frozen like the runs the agent hands the store (history and caches share it safely). */
export function parseRun(json: string, sessionId: string, path: string, seq: number): RunOutput {
  const where = `run ${seq} (runs.data)`;
  const run = parse(json, sessionId, path, where) as RunOutput;
  if (
    run === null ||
    typeof run !== 'object' ||
    typeof run.runId !== 'string' ||
    typeof run.status !== 'string' ||
    typeof run.input?.inputContent === 'undefined'
  ) {
    throw corrupt(sessionId, path, where, 'not a RunOutput (runId, status, input)');
  }
  return deepFreeze(run);
}

/** JSON text of session data, or an error naming what could not be written. */
export function toJson(value: unknown, sessionId: string, path: string, what: string): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    throw new SessionStoreError(
      'UNSERIALIZABLE',
      `SqliteSessionStore: session "${sessionId}": ${what} cannot be stored as JSON (${(error as Error).message}); keep only JSON data (strings, numbers, booleans, null, arrays, plain objects) in it`,
      { sessionId, path, cause: error },
    );
  }
}

function parse(json: string, sessionId: string, path: string, what: string): unknown {
  try {
    return JSON.parse(json);
  } catch (error) {
    throw corrupt(sessionId, path, what, `not valid JSON: ${(error as Error).message}`, error);
  }
}

export function corrupt(sessionId: string, path: string, what: string, why: string, cause?: unknown): SessionStoreError {
  return new SessionStoreError(
    'CORRUPT_ROW',
    `SqliteSessionStore: session "${sessionId}" in "${path}" cannot be read: its ${what} is ${why}. Nothing was changed. ` +
      `Delete the session (store.delete(${JSON.stringify(sessionId)})) to start it afresh, or repair the row with the sqlite3 shell`,
    { sessionId, path, cause },
  );
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}
