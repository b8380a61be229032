/**
 * Wrong input to DrainQueue: each fails at once with HookchainConfigError naming the culprit and what it must be.
 * Timeouts past 2³¹−1 ms are refused because Node would clamp the timer to 1 ms and time every job out at once.
 */
import { describe, expect, it } from 'vitest';
import { DrainQueue, HookchainConfigError } from 'hookchain';
import { job } from './helpers.ts';

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

const TIMER = 'a whole number of milliseconds from 1 to 2147483647.*or Infinity for no timeout';

const QUEUE: Case[] = [
  ['null', null, 'INVALID_OPTION', /new DrainQueue\(\): options must be an object like \{ concurrency \}, got null/],
  ['a number', 64, 'INVALID_OPTION', /options must be an object.*got number 64/],
  [
    'an unknown option',
    { concurency: 4 },
    'UNKNOWN_OPTION',
    /unknown option "concurency"; known options are concurrency, maxQueued, overflow, timeoutMs/,
  ],
  ['concurrency 0', { concurrency: 0 }, 'INVALID_OPTION', /option "concurrency" must be a positive integer, got number 0/],
  [
    'concurrency as a string',
    { concurrency: '4' },
    'INVALID_OPTION',
    /option "concurrency" must be a positive integer, got the string "4"/,
  ],
  ['maxQueued 1.5', { maxQueued: 1.5 }, 'INVALID_OPTION', /option "maxQueued" must be a positive integer/],
  [
    'an unknown overflow policy',
    { overflow: 'drop' },
    'INVALID_OPTION',
    /option "overflow" must be one of "wait", "reject", "drop-oldest", got the string "drop"/,
  ],
  ['timeoutMs 0', { timeoutMs: 0 }, 'INVALID_OPTION', new RegExp(`option "timeoutMs" must be ${TIMER}, got number 0`)],
  ['timeoutMs -1', { timeoutMs: -1 }, 'INVALID_OPTION', new RegExp(`option "timeoutMs" must be ${TIMER}`)],
  ['timeoutMs 1.5', { timeoutMs: 1.5 }, 'INVALID_OPTION', new RegExp(`option "timeoutMs" must be ${TIMER}`)],
  [
    'timeoutMs 2³¹ (Node would fire it after 1 ms)',
    { timeoutMs: 2 ** 31 },
    'INVALID_OPTION',
    new RegExp(`option "timeoutMs" must be ${TIMER}, got number 2147483648`),
  ],
  ['timeoutMs NaN', { timeoutMs: NaN }, 'INVALID_OPTION', new RegExp(`option "timeoutMs" must be ${TIMER}, got number NaN`)],
  ['timeoutMs as a string', { timeoutMs: '100' }, 'INVALID_OPTION', new RegExp(`option "timeoutMs" must be ${TIMER}`)],
];

const run = () => undefined;
const JOBS: Case[] = [
  [
    'undefined',
    undefined,
    'INVALID_JOB',
    /DrainQueue\.enqueue\(job\): job must be an object \{ hookName, runId, run\(\) \}, got undefined/,
  ],
  ['a bare function', run, 'INVALID_JOB', /job must be an object \{ hookName, runId, run\(\) \}, got a function run/],
  ['no run function', { hookName: 'h', runId: 'r' }, 'INVALID_JOB', /job "h": "run" must be a function, got undefined/],
  ['a numeric hookName', { hookName: 5, runId: 'r', run }, 'INVALID_JOB', /job "5": "hookName" must be a string, got number 5/],
  ['no runId', { hookName: 'h', run }, 'INVALID_JOB', /job "h": "runId" must be a string, got undefined/],
  ['timeoutMs 0', { ...job('h', run), timeoutMs: 0 }, 'INVALID_JOB', new RegExp(`job "h": "timeoutMs" must be ${TIMER}, got number 0`)],
  [
    'timeoutMs 2⁴⁰ (Node would fire it after 1 ms)',
    { ...job('h', run), timeoutMs: 2 ** 40 },
    'INVALID_JOB',
    new RegExp(`job "h": "timeoutMs" must be ${TIMER}`),
  ],
  ['timeoutMs 2.5', { ...job('h', run), timeoutMs: 2.5 }, 'INVALID_JOB', new RegExp(`"timeoutMs" must be ${TIMER}`)],
  [
    'a reporter without methods',
    { ...job('h', run), report: {} },
    'INVALID_JOB',
    /job "h": "report" must be a reporter with started\(\), completed\(\) and failed\(\)/,
  ],
];

describe('new DrainQueue(options)', () => {
  it.each(QUEUE)('%s', (_label, input, code, message) => expectConfigError(() => new DrainQueue(input as never), code, message));

  it('takes the whole timer range, and Infinity for no timeout', () => {
    expect(new DrainQueue({ timeoutMs: 1 }).timeoutMs).toBe(1);
    expect(new DrainQueue({ timeoutMs: 2 ** 31 - 1 }).timeoutMs).toBe(2 ** 31 - 1);
    expect(new DrainQueue({ timeoutMs: Infinity }).timeoutMs).toBe(Infinity);
    expect(new DrainQueue().timeoutMs).toBe(30_000);
  });
});

describe('DrainQueue.enqueue(job)', () => {
  it.each(JOBS)('%s', async (_label, input, code, message) => {
    const queue = new DrainQueue();
    expectConfigError(() => queue.enqueue(input as never), code, message);
    expect(queue.stats.accepted).toBe(0);
    await queue.drain();
  });

  it('takes a job timeout anywhere in the timer range, and Infinity', async () => {
    const queue = new DrainQueue();
    for (const timeoutMs of [1, 2 ** 31 - 1, Infinity]) void queue.enqueue(job('h', run, { timeoutMs }));
    await queue.drain();
    expect(queue.stats).toMatchObject({ accepted: 3, completed: 3 });
  });
});
