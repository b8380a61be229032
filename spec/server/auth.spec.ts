/**
 * Auth (API keys, authenticate), per-principal rate limits, the constant-time compare, and the listen/option checks.
 */
import { describe, expect, it } from 'vitest';
import { AgentServer } from 'hookchain/server';
import { safeEqual } from '../../lib/server/http/auth.ts';
import { offlineAgent, post, serve, json } from './kit.ts';

const apiKeys = { 'sk-alice': { userId: 'alice' }, 'sk-bob': { userId: 'bob' } };
const as = (key: string) => ({ authorization: `Bearer ${key}` });

describe('auth', () => {
  it('answers 401 with WWW-Authenticate: Bearer for no key and a wrong key, and lets /health through', async () => {
    const { url } = await serve({ agents: [offlineAgent()], apiKeys });
    const none = await fetch(`${url}/agents`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await json(none)).error.type).toBe('authentication_error');
    const wrong = await fetch(`${url}/agents`, { headers: as('sk-alicf') });
    expect(wrong.status).toBe(401);
    expect((await fetch(`${url}/agents`, { headers: as('sk-alice') })).status).toBe(200);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it("runs as the key's user: a body userId cannot override it", async () => {
    const { url } = await serve({ agents: [offlineAgent()], apiKeys });
    const out = await json(post(`${url}/agents/echo/runs`, { input: 'hi', sessionId: 'a1', userId: 'bob' }, as('sk-alice')));
    expect(out.userId).toBe('alice');
  });

  it("scopes sessions to the caller: another user's session is 404 to read, delete, run on and continue", async () => {
    const { url } = await serve({ agents: [offlineAgent()], apiKeys });
    expect((await post(`${url}/agents/echo/runs`, { input: 'hi', sessionId: 'alice-1' }, as('sk-alice'))).status).toBe(200);
    expect((await fetch(`${url}/sessions/alice-1`, { headers: as('sk-bob') })).status).toBe(404);
    expect((await fetch(`${url}/sessions/alice-1`, { method: 'DELETE', headers: as('sk-bob') })).status).toBe(404);
    expect((await post(`${url}/agents/echo/runs`, { input: 'hi', sessionId: 'alice-1' }, as('sk-bob'))).status).toBe(404);
    expect((await post(`${url}/agents/echo/runs/r/continue`, { sessionId: 'alice-1', approvals: [] }, as('sk-bob'))).status).toBe(404);
    expect(await json(fetch(`${url}/sessions`, { headers: as('sk-bob') }))).toEqual([]);
    const mine = await json(fetch(`${url}/sessions`, { headers: as('sk-alice') }));
    expect(mine.map((s: { sessionId: string }) => s.sessionId)).toEqual(['alice-1']);
    expect((await fetch(`${url}/sessions/alice-1`, { headers: as('sk-alice') })).status).toBe(200);
    expect((await fetch(`${url}/sessions/alice-1`, { method: 'DELETE', headers: as('sk-alice') })).status).toBe(204);
  });

  it('takes a custom authenticate(ctx) scheme', async () => {
    const authenticate = (ctx: { get(name: string): string }) => (ctx.get('x-team') === 'red' ? { userId: 'red-team' } : undefined);
    const { url } = await serve({ agents: [offlineAgent()], authenticate });
    expect((await fetch(`${url}/agents`)).status).toBe(401);
    const out = await json(post(`${url}/agents/echo/runs`, { input: 'hi' }, { 'x-team': 'red' }));
    expect(out.userId).toBe('red-team');
  });

  it('rate-limits per principal with 429 and Retry-After', async () => {
    const { url } = await serve({ agents: [offlineAgent()], apiKeys, rateLimit: { max: 2, windowMs: 60_000 } });
    expect((await fetch(`${url}/agents`, { headers: as('sk-alice') })).status).toBe(200);
    expect((await fetch(`${url}/agents`, { headers: as('sk-alice') })).status).toBe(200);
    const third = await fetch(`${url}/agents`, { headers: as('sk-alice') });
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    // Bob has his own window.
    expect((await fetch(`${url}/agents`, { headers: as('sk-bob') })).status).toBe(200);
  });
});

describe('safeEqual (the key compare)', () => {
  it('is true only for equal strings, whatever the lengths and the common prefix', () => {
    expect(safeEqual('sk-live-1', 'sk-live-1')).toBe(true);
    expect(safeEqual('sk-live-1', 'sk-live-2')).toBe(false);
    expect(safeEqual('sk-live-1', 'xk-live-1')).toBe(false);
    expect(safeEqual('sk-live-1', 'sk-live-10')).toBe(false);
    expect(safeEqual('', 'sk')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
    expect(safeEqual('a'.repeat(10_000), 'a'.repeat(9_999) + 'b')).toBe(false);
  });
});

describe('configuration', () => {
  it('refuses a non-loopback host without auth unless allowUnauthenticated', async () => {
    const open = new AgentServer({ agents: [offlineAgent()] });
    await expect(open.listen({ port: 0, host: '0.0.0.0' })).rejects.toThrow(/without auth.*allowUnauthenticated/);
    const allowed = new AgentServer({ agents: [offlineAgent()], allowUnauthenticated: true });
    const { url } = await allowed.listen({ port: 0, host: '0.0.0.0' });
    expect(url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    await allowed.close();
  });

  it('refuses unknown options, wrong types and two agents with one id, naming the fix', () => {
    expect(() => new AgentServer({ agents: [offlineAgent()], port: 1 } as never)).toThrow(/unknown option "port"/);
    expect(() => new AgentServer({ agents: [offlineAgent()], bodyLimit: 'lots' })).toThrow(/option "bodyLimit" must be/);
    expect(() => new AgentServer({ agents: [offlineAgent()], busySession: 'wait' as never })).toThrow(/"queue", "reject"/);
    expect(() => new AgentServer({ agents: [offlineAgent(), offlineAgent()] })).toThrow(/two agents have the id "echo"/);
    expect(() => new AgentServer({} as never)).toThrow(/option "agents" is required/);
  });
});
