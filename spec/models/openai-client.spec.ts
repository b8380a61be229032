/**
 * The OpenAI client factory: options checked at construction, `openai` loaded on first use only, and a clear
 * install hint when the optional peer is missing.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { APIConnectionTimeoutError } from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Agent, HookchainConfigError, OpenAIChat } from 'hookchain';
import { startFakeOpenAI, type FakeOpenAI } from 'hookchain/testing';
import { OPENAI_PEER_RANGE, openAIClient } from '../../lib/models/openai-client.ts';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url);

let server: FakeOpenAI;
beforeAll(async () => {
  server = await startFakeOpenAI();
});
afterAll(() => server.close());
afterEach(() => vi.unstubAllEnvs());

function configError(build: () => unknown): HookchainConfigError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(HookchainConfigError);
    return error as HookchainConfigError;
  }
  throw new Error('expected a HookchainConfigError, nothing was thrown');
}

describe('OpenAIChat options', () => {
  it.each([
    [{ timeoutMs: 'x' }, /OpenAIChat: option "timeoutMs" must be a whole number of milliseconds from 1 to 2147483647 .*got the string "x"/],
    [{ timeoutMs: 0 }, /option "timeoutMs" must be a whole number of milliseconds/],
    [{ timeoutMs: 2 ** 31 }, /option "timeoutMs" must be a whole number of milliseconds/],
    [{ maxRetries: -1 }, /OpenAIChat: option "maxRetries" must be an integer ≥ 0, got number -1/],
    [{ baseURL: 'not a url' }, /option "baseURL" must be an absolute URL such as 'http:\/\/127\.0\.0\.1:11434\/v1'/],
    [{ apiKey: '' }, /option "apiKey" must be a non-empty string/],
    [{ client: {} }, /option "client" must be an OpenAI client \(new OpenAI\(\{ \.\.\. \}\)\) with chat\.completions\.create/],
    [{ id: '' }, /option "id" must be the model name, a non-empty string such as 'gpt-4o-mini'/],
    [{ stream: true }, /option "stream" is set by OpenAIChat \(agent\.stream\(\) streams, agent\.run\(\) does not\); remove it/],
    [{ model: 'gpt-4o' }, /option "model" is set by OpenAIChat \(the model is the "id" option\)/],
  ])('refuses %o at construction, naming the option and the fix', (bad, message) => {
    const error = configError(() => new OpenAIChat({ id: 'gpt-test', apiKey: 'k', ...bad } as never));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toMatch(message);
  });

  it('requires an object with an id', () => {
    expect(configError(() => new OpenAIChat('gpt-4o' as never)).message).toBe(
      'OpenAIChat: options must be an object like { id }, got the string "gpt-4o"',
    );
    expect(configError(() => new OpenAIChat({ apiKey: 'k' } as never)).message).toMatch(
      /OpenAIChat: option "id" is required; it must be the model name/,
    );
  });

  it('without a key anywhere it fails at construction, saying where a key comes from', () => {
    vi.stubEnv('OPENAI_API_KEY', '');
    vi.stubEnv('OPENAI_BASE_URL', '');
    const error = configError(() => new OpenAIChat({ id: 'gpt-test' }));
    expect(error.code).toBe('MISSING_API_KEY');
    expect(error.message).toMatch(/Set OPENAI_API_KEY, pass \{ apiKey \}, or point \{ baseURL \}/);
  });

  it('a base URL alone is enough (local servers need no key), from the option or OPENAI_BASE_URL', async () => {
    vi.stubEnv('OPENAI_API_KEY', '');
    vi.stubEnv('OPENAI_BASE_URL', server.baseURL);
    server.setReply('from env url');
    const model = new OpenAIChat({ id: 'llama3', maxRetries: 0 });
    expect((await model.getClient()).baseURL).toBe(server.baseURL);
    expect((await new Agent({ model }).run('x')).content).toBe('from env url');
  });
});

describe('openAIClient', () => {
  it('creates the client once, with timeoutMs and maxRetries as its timeout and retries', async () => {
    const handle = openAIClient({ apiKey: 'k', baseURL: server.baseURL, timeoutMs: 1234, maxRetries: 1 }, 'Test');
    const client = await handle.get();
    expect(await handle.get()).toBe(client);
    expect(client.timeout).toBe(1234);
    expect(client.maxRetries).toBe(1);
    expect(client.apiKey).toBe('k');
  });

  it('tunes a passed client through a copy and leaves the caller’s client as it was', async () => {
    const own = server.client();
    expect(await openAIClient({ client: own }, 'Test').get()).toBe(own);
    const tuned = await openAIClient({ client: own, timeoutMs: 77, maxRetries: 3 }, 'Test').get();
    expect(tuned).not.toBe(own);
    expect([tuned.timeout, tuned.maxRetries, tuned.baseURL]).toEqual([77, 3, server.baseURL]);
    expect([own.timeout, own.maxRetries]).toEqual([10_000, 0]);
  });

  it('refuses a client together with a key or URL, and unknown options', () => {
    expect(configError(() => openAIClient({ client: server.client(), baseURL: server.baseURL }, 'Test')).message).toBe(
      'Test: give either "client" or "apiKey"/"baseURL", not both (configure the client you pass)',
    );
    expect(configError(() => openAIClient({ apiKey: 'k', timeout: 5 } as never, 'Test')).code).toBe('UNKNOWN_OPTION');
  });

  it('forwards moderations.create to the real client, so the handle can serve as a moderation client', async () => {
    server.setModeration(() => ({ flagged: true, categories: { harassment: true } }));
    const handle = openAIClient({ apiKey: 'k', baseURL: server.baseURL, maxRetries: 0 }, 'Test');
    const answer = await handle.moderations.create({ model: 'omni-moderation-latest', input: 'hello' });
    expect(answer.results[0]?.flagged).toBe(true);
  });

  it('a timeoutMs the server exceeds fails the request instead of waiting', async () => {
    server.setReply({ content: 'too late', delayMs: 2_000 });
    const error = (await new Agent({
      model: new OpenAIChat({ id: 'm', baseURL: server.baseURL, apiKey: 'k', timeoutMs: 50, maxRetries: 0 }),
    })
      .run('x')
      .catch((e: unknown) => e)) as Error & { runOutput: { error: { type: string } } };
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(error.runOutput.error.type).toBe('model_error');
  });

  it('names the same peer range as package.json in its install hint', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
      peerDependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.peerDependencies['openai']).toBe(OPENAI_PEER_RANGE);
  });
});

/**
 * Loading is observed in a fresh Node process, through a module hook that records (and, with BLOCK_OPENAI, refuses)
 * every resolution of `openai`. The test worker itself cannot tell: it has loaded openai for the fake server.
 */
const probe = String.raw`
import { registerHooks } from 'node:module';
const loaded = [];
registerHooks({
  resolve(specifier, context, next) {
    if (specifier === 'openai' || specifier.startsWith('openai/')) {
      if (process.env.BLOCK_OPENAI) throw Object.assign(new Error("Cannot find package 'openai' imported from " + context.parentURL), { code: 'ERR_MODULE_NOT_FOUND' });
    }
    return next(specifier, context);
  },
  load(url, context, next) {
    if (url.includes('/node_modules/openai/')) loaded.push(url);
    return next(url, context);
  },
});
const report = {};
const { OpenAIChat } = await import('./lib/models/openai-chat.ts');
report.afterImport = loaded.length;
try {
  const model = new OpenAIChat({ id: 'm', apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1' });
  report.afterConstruct = loaded.length;
  const client = await model.getClient();
  report.afterFirstUse = loaded.length > 0 && typeof client.chat.completions.create === 'function';
} catch (error) {
  report.error = { name: error.name, code: error.code, message: error.message };
}
console.log(JSON.stringify(report));
`;

async function runProbe(env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const { stdout } = await run(
    process.execPath,
    ['--conditions=hookchain-source', '--disable-warning=ExperimentalWarning', '--input-type=module', '-e', probe],
    {
      cwd: root,
      env: { ...process.env, ...env },
    },
  );
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('loading openai', () => {
  it('neither importing nor constructing OpenAIChat loads openai; the first use does', async () => {
    expect(await runProbe()).toEqual({ afterImport: 0, afterConstruct: 0, afterFirstUse: true });
  });

  it('without openai installed, OpenAIChat fails at construction with the npm install command', async () => {
    const report = await runProbe({ BLOCK_OPENAI: '1' });
    expect(report).toEqual({
      afterImport: 0,
      error: {
        name: 'HookchainConfigError',
        code: 'MISSING_DEPENDENCY',
        message: `OpenAIChat needs the openai package, an optional peer dependency of hookchain: npm install openai@"${OPENAI_PEER_RANGE}"`,
      },
    });
  });
});
