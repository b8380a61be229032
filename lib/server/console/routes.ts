/**
 * The run console's routes (DESIGN §12), behind the server's auth:
 *
 * - `GET /console`: the page (plain HTML, CSS and JS from one string; no build step).
 * - `GET /console/runs`: the recent runs, newest first.
 * - `GET /console/runs/:runId`: one run's recorded events and timeline bars.
 * - `GET /console/events`: SSE; `runs` (the list) once, then `run` (one run's summary) whenever a run changes.
 *
 * A browser cannot send `Authorization`, so with auth the page is opened once as `/console?key=<key>`: the key is
 * checked like a header would be, exchanged for a random session id in an `HttpOnly`, `SameSite=Strict` cookie
 * scoped to `/console` (the key itself is never stored in the browser), and the browser is redirected to
 * `/console`. Every console route answers the cookie or the usual header. With auth, a caller sees only its own
 * user's runs.
 */
import { randomBytes } from 'node:crypto';
import type { Context as KoaContext } from 'koa';
import { HttpError } from '../http/errors.ts';
import { openSse } from '../http/sse.ts';
import type { Authenticator } from '../http/auth.ts';
import type { Principal } from '../options.ts';
import { principalOf, type AddRoute, type RouteState } from '../state.ts';
import { CONSOLE_CSP, CONSOLE_PAGE } from './page.ts';
import type { ConsoleRecorder } from './recorder.ts';

const COOKIE = 'hookchain_console';
const SESSION_MS = 12 * 60 * 60 * 1000;
const MAX_SESSIONS = 1000;

/** The console's routes on `add`; returns a function ending its event streams (for the server's `close()`). */
export function consoleRoutes(state: RouteState, add: AddRoute, recorder: ConsoleRecorder): () => void {
  const sessions = new Map<string, { principal: Principal; expires: number }>();
  const streams = new Set<() => void>();

  // The cookie first, then the server's own scheme (an Authorization header, or whatever authenticate() reads).
  const auth: Authenticator | undefined =
    state.auth === undefined
      ? undefined
      : async (ctx) => {
          const id = ctx.cookies.get(COOKIE);
          const session = id === undefined ? undefined : sessions.get(id);
          if (session !== undefined && session.expires > Date.now()) return session.principal;
          if (session !== undefined) sessions.delete(id!);
          return state.auth!(ctx);
        };
  const userOf = (ctx: KoaContext) => principalOf(ctx)?.userId;

  add(
    'get',
    '/console',
    'native',
    async (ctx) => {
      const key = typeof ctx.query['key'] === 'string' ? ctx.query['key'] : undefined;
      if (key !== undefined && state.auth !== undefined) {
        // Checked exactly as the header would be; a wrong key answers 401.
        ctx.request.headers['authorization'] = `Bearer ${key}`;
        const principal = (await state.auth(ctx))!;
        const id = randomBytes(32).toString('base64url');
        sessions.set(id, { principal, expires: Date.now() + SESSION_MS });
        while (sessions.size > MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
        ctx.cookies.set(COOKIE, id, { httpOnly: true, sameSite: 'strict', path: '/console', maxAge: SESSION_MS, secure: ctx.secure });
        ctx.status = 303;
        ctx.set('Location', '/console');
        ctx.set('Referrer-Policy', 'no-referrer');
        return;
      }
      if (key !== undefined) return ctx.redirect('/console'); // no auth: nothing to exchange
      ctx.type = 'text/html; charset=utf-8';
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Referrer-Policy', 'no-referrer');
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('Content-Security-Policy', CONSOLE_CSP);
      ctx.body = CONSOLE_PAGE;
    },
    false,
    // The `?key=` exchange authenticates in the handler; anything else goes through the cookie or the header.
    async (ctx) => (typeof ctx.query['key'] === 'string' ? undefined : auth?.(ctx)),
  );

  add('get', '/console/runs', 'native', (ctx) => void (ctx.body = recorder.list(userOf(ctx))), false, auth);

  add(
    'get',
    '/console/runs/:runId',
    'native',
    (ctx) => {
      const detail = recorder.detail(String(ctx.params['runId']), userOf(ctx));
      if (detail === undefined) throw new HttpError(404, 'not_found', 'no such run in the console (it may have been evicted)');
      ctx.body = detail;
    },
    false,
    auth,
  );

  add(
    'get',
    '/console/events',
    'native',
    (ctx) => {
      const userId = userOf(ctx);
      const sse = openSse(ctx);
      sse.send(JSON.stringify(recorder.list(userId)), 'runs');
      const off = recorder.onChange((runIds) => {
        for (const runId of runIds) {
          const summary = recorder.summary(runId, userId);
          if (summary !== undefined) sse.send(JSON.stringify(summary), 'run');
        }
      });
      const ping = setInterval(() => sse.send('{}', 'ping'), 15_000);
      ping.unref();
      const end = () => {
        off();
        clearInterval(ping);
        streams.delete(end);
        sse.end();
      };
      streams.add(end);
      ctx.res.once('close', end);
    },
    false,
    auth,
  );

  return () => {
    for (const end of [...streams]) end();
  };
}
