/**
 * Reading a JSON request body: the content type must be JSON (415), the body at most `limit` bytes (413, read no
 * further), sent within `timeoutMs` (408: a client that sends headers and stalls cannot hold a slot), and parse to
 * an object (400).
 */
import type { Context as KoaContext } from 'koa';
import getRawBody from 'raw-body';
import { HttpError } from './errors.ts';

/** The request's JSON object body. */
export async function readJson(ctx: KoaContext, limit: number, timeoutMs: number): Promise<Record<string, unknown>> {
  if (!ctx.is('application/json', '+json')) {
    const got = ctx.get('content-type');
    throw new HttpError(
      415,
      'unsupported_media_type',
      `send the body as JSON (Content-Type: application/json)${got ? `, got ${got.slice(0, 80)}` : ''}`,
    );
  }
  const text = await readText(ctx, limit, timeoutMs);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_request_error', 'the body is not valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'invalid_request_error', 'the body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function readText(ctx: KoaContext, limit: number, timeoutMs: number): Promise<string> {
  const req = ctx.req;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      // Stop reading and close the connection once the 408 is written: the stalled sender gets nothing more.
      ctx.set('Connection', 'close');
      req.unpipe();
      reject(new HttpError(408, 'request_timeout', `the request body did not arrive within ${timeoutMs} ms`));
    }, timeoutMs);
    getRawBody(req, { limit, length: req.headers['content-length'], encoding: 'utf-8' }).then(
      (text) => {
        clearTimeout(timer);
        resolve(text);
      },
      (error: { type?: string; status?: number }) => {
        clearTimeout(timer);
        if (error.type === 'entity.too.large') {
          ctx.set('Connection', 'close');
          reject(new HttpError(413, 'payload_too_large', `the body is larger than the server's bodyLimit of ${limit} bytes`));
        } else if (error.type === 'request.aborted') {
          reject(new HttpError(400, 'request_aborted', 'the client aborted the request'));
        } else if (error.status !== undefined && error.status < 500) {
          reject(new HttpError(400, 'invalid_request_error', 'the body could not be read (length or encoding)'));
        } else {
          reject(error);
        }
      },
    );
  });
}
