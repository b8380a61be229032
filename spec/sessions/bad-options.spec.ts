/**
 * Wrong input to the stores' public entry points: each fails at once with HookchainConfigError, whose message names
 * the culprit and what it must be, and nothing is written.
 */
import { describe, expect, it } from 'vitest';
import { HookchainConfigError, MemorySessionStore, SqliteSessionStore, type SessionStore } from 'hookchain';
import { session } from './contract.ts';
import { sqliteStore, tempDbPath } from './helpers.ts';

type Case = [label: string, input: unknown, code: string, message: RegExp];

function expectConfigError(fn: () => unknown, code: string, message: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(HookchainConfigError);
  expect(thrown).toMatchObject({ code });
  expect((thrown as Error).message).toMatch(message);
}

const MEMORY: Case[] = [
  ['null', null, 'INVALID_OPTION', /new MemorySessionStore\(\): options must be an object like \{ maxSessions \}, got null/],
  ['a number', 5, 'INVALID_OPTION', /options must be an object.*got number 5/],
  ['an unknown option', { max: 5 }, 'UNKNOWN_OPTION', /unknown option "max"; known options are maxSessions/],
  ['maxSessions 0', { maxSessions: 0 }, 'INVALID_OPTION', /option "maxSessions" must be a positive integer, got number 0/],
  ['maxSessions 1.5', { maxSessions: 1.5 }, 'INVALID_OPTION', /option "maxSessions" must be a positive integer/],
  [
    'maxSessions as a string',
    { maxSessions: '5' },
    'INVALID_OPTION',
    /option "maxSessions" must be a positive integer, got the string "5"/,
  ],
];

const SQLITE: Case[] = [
  ['no options', undefined, 'INVALID_OPTION', /new SqliteSessionStore\(\): options must be an object like \{ path \}, got undefined/],
  ['a bare path', 'sessions.db', 'INVALID_OPTION', /options must be an object like \{ path \}, got the string "sessions\.db"/],
  ['no path', {}, 'INVALID_OPTION', /option "path" is required; it must be a file path such as '\.hookchain\/sessions\.db'/],
  ['an empty path', { path: ' ' }, 'INVALID_OPTION', /option "path" must be a file path/],
  ['a numeric path', { path: 5 }, 'INVALID_OPTION', /option "path" must be a file path.*got number 5/],
  [
    'an unknown option',
    { path: 'x.db', timeout: 5 },
    'UNKNOWN_OPTION',
    /unknown option "timeout"; known options are path, busyTimeoutMs, cacheSessions/,
  ],
  [
    'busyTimeoutMs -1',
    { path: 'x.db', busyTimeoutMs: -1 },
    'INVALID_OPTION',
    /option "busyTimeoutMs" must be 0 \(do not wait\) or a whole number of milliseconds from 1 to 2147483647/,
  ],
  ['busyTimeoutMs 1.5', { path: 'x.db', busyTimeoutMs: 1.5 }, 'INVALID_OPTION', /option "busyTimeoutMs" must be/],
  [
    'busyTimeoutMs past 2³¹−1 (SQLite would wrap it)',
    { path: 'x.db', busyTimeoutMs: 2 ** 31 },
    'INVALID_OPTION',
    /option "busyTimeoutMs" must be.*got number 2147483648/,
  ],
  ['busyTimeoutMs Infinity', { path: 'x.db', busyTimeoutMs: Infinity }, 'INVALID_OPTION', /option "busyTimeoutMs" must be/],
  ['busyTimeoutMs as a string', { path: 'x.db', busyTimeoutMs: '100' }, 'INVALID_OPTION', /option "busyTimeoutMs" must be/],
  ['cacheSessions -1', { path: 'x.db', cacheSessions: -1 }, 'INVALID_OPTION', /option "cacheSessions" must be an integer ≥ 0/],
];

const LIST: Case[] = [
  ['no options', undefined, 'INVALID_OPTION', /listSessions\(\): options must be an object like \{ userId \}, got undefined/],
  ['a bare user id', 'u1', 'INVALID_OPTION', /listSessions\(\): options must be an object.*got the string "u1"/],
  ['no userId', {}, 'INVALID_OPTION', /listSessions\(\): option "userId" is required; it must be a non-empty string/],
  ['a numeric userId', { userId: 5 }, 'INVALID_OPTION', /listSessions\(\): option "userId" must be a non-empty string, got number 5/],
  [
    'a limit as a string',
    { userId: 'u', limit: '5' },
    'INVALID_OPTION',
    /listSessions\(\): option "limit" must be a positive integer, got the string "5"/,
  ],
  [
    'an unknown option',
    { userId: 'u', offset: 10 },
    'UNKNOWN_OPTION',
    /listSessions\(\): unknown option "offset"; known options are userId, agentId, limit/,
  ],
];

describe('new MemorySessionStore(options)', () => {
  it.each(MEMORY)('%s', (_label, input, code, message) => expectConfigError(() => new MemorySessionStore(input as never), code, message));
  it('takes no options, or a valid maxSessions', () => {
    expect(new MemorySessionStore().maxSessions).toBe(10_000);
    expect(new MemorySessionStore({ maxSessions: 1 }).maxSessions).toBe(1);
  });
});

describe('new SqliteSessionStore(options)', () => {
  it.each(SQLITE)('%s', (_label, input, code, message) => expectConfigError(() => new SqliteSessionStore(input as never), code, message));
  it('takes busyTimeoutMs 0 (do not wait) and the largest timer', () => {
    for (const busyTimeoutMs of [0, 2 ** 31 - 1]) expect(() => sqliteStore(tempDbPath(), { busyTimeoutMs } as never)).not.toThrow();
  });
});

const stores: [string, () => SessionStore][] = [
  ['MemorySessionStore', () => new MemorySessionStore()],
  ['SqliteSessionStore', () => sqliteStore(':memory:')],
];

describe.each(stores)('%s: calls with the wrong input', (name, open) => {
  it.each(LIST)('listSessions(): %s', (_label, input, code, message) => {
    expectConfigError(() => open().listSessions(input as never), code, new RegExp(`${name}\\.${message.source}`));
  });

  it.each([
    ['get', (s: SessionStore, id: unknown) => s.get(id as never)],
    ['delete', (s: SessionStore, id: unknown) => s.delete(id as never)],
  ] as const)('%s() refuses a session id that is not a non-empty string', (method, call) => {
    for (const id of [undefined, 5, '', { sessionId: 's' }]) {
      expectConfigError(
        () => call(open(), id),
        'INVALID_SESSION',
        new RegExp(`${name}\\.${method}\\(\\): sessionId must be a non-empty string`),
      );
    }
  });

  it.each([
    ['not an object', () => null, /save\(session\): session must be an AgentSession object/],
    [
      'no sessionId',
      () => ({ ...session('s1'), sessionId: undefined }),
      /save\(session\): sessionId must be a non-empty string, got undefined/,
    ],
    ['no agentId', () => ({ ...session('s1'), agentId: 7 }), /session "s1": agentId must be a non-empty string, got number 7/],
    [
      'a fractional createdAt',
      () => ({ ...session('s1'), createdAt: 1.5 }),
      /session "s1": createdAt must be epoch milliseconds \(an integer\), got number 1\.5/,
    ],
    ['a Date as updatedAt', () => ({ ...session('s1'), updatedAt: new Date() }), /session "s1": updatedAt must be epoch milliseconds/],
    ['a negative version', () => ({ ...session('s1'), version: -1 }), /session "s1": version must be the version get\(\) returned/],
    [
      'state that is an array',
      () => ({ ...session('s1'), sessionState: [] }),
      /session "s1": sessionState must be a plain object, got an array/,
    ],
    ['runs that are not a list', () => ({ ...session('s1'), runs: 'none' }), /session "s1": runs must be an array of RunOutput/],
    [
      'a run that is not a run',
      () => ({ ...session('s1'), runs: [null] }),
      /session "s1": runs\[0\] must be a RunOutput \(with a string runId and an integer createdAt\), got null/,
    ],
  ] as [string, () => unknown, RegExp][])('save() refuses a session with %s and stores nothing', async (_label, make, message) => {
    const store = open();
    expectConfigError(() => store.save(make() as never), 'INVALID_SESSION', message);
    expect(await store.get('s1')).toBeUndefined();
  });
});
