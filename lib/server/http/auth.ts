/**
 * Who is calling. API keys are compared in constant time: both sides are hashed with SHA-256 first, so
 * `timingSafeEqual` always compares 32 bytes, whatever the lengths, and every key is compared (no early exit), so
 * neither how much of a wrong key matches nor which key matched shows in the time taken.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context as KoaContext } from 'koa';
import { HttpError } from './errors.ts';
import type { AgentRoutesOptions, Principal } from '../options.ts';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** True when `a` and `b` are the same string; its time does not depend on where they differ or on their lengths. */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** Resolves the caller, or undefined when the server has no auth. Throws a 401 for a missing or wrong credential. */
export type Authenticator = (ctx: KoaContext) => Promise<Principal | undefined>;

const unauthorized = (message: string) =>
  new HttpError(401, 'authentication_error', message, { headers: { 'WWW-Authenticate': 'Bearer' } });

/** Builds the authenticator of `apiKeys` and `authenticate`; undefined when neither is set. */
export function createAuthenticator(options: Pick<AgentRoutesOptions, 'apiKeys' | 'authenticate'>): Authenticator | undefined {
  const { apiKeys, authenticate } = options;
  if (apiKeys === undefined && authenticate === undefined) return undefined;
  const keys = Object.entries(apiKeys ?? {}).map(([key, principal]) => ({ digest: digest(key), userId: principal.userId }));
  return async (ctx) => {
    const header = ctx.get('authorization');
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (bearer !== undefined && keys.length > 0) {
      const given = digest(bearer);
      let userId: string | undefined;
      for (const key of keys) if (timingSafeEqual(given, key.digest) && userId === undefined) userId = key.userId;
      if (userId !== undefined) return { userId };
    }
    if (authenticate !== undefined) {
      const principal = await authenticate(ctx);
      if (principal !== undefined && principal !== null) {
        if (typeof principal.userId !== 'string' || principal.userId === '') {
          throw new Error('authenticate() resolved without a userId');
        }
        return { userId: principal.userId };
      }
    }
    throw unauthorized(header === '' ? 'missing API key: send Authorization: Bearer <key>' : 'invalid API key');
  };
}
