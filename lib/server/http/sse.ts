/**
 * Server-sent events over a Koa response: the body is a stream the writer feeds, with the headers a proxy needs
 * not to buffer it (`Cache-Control: no-cache`, `X-Accel-Buffering: no`).
 */
import type { Context as KoaContext } from 'koa';

/** Writes `event`/`id`/`data` frames to one response. */
export interface SseWriter {
  /** One frame; `data` is already JSON (or any single-line text). Returns false once the client has gone. */
  send(data: string, event?: string, id?: number): boolean;
  /** Ends the response. */
  end(): void;
  /** True once the client has gone or the stream ended. */
  readonly closed: boolean;
}

/**
 * Starts an event stream as the response of `ctx`. The stream is written to the socket directly (`ctx.respond =
 * false`): each frame goes out as it is sent, and a client that leaves is not reported as an error.
 */
export function openSse(ctx: KoaContext): SseWriter {
  const res = ctx.res;
  ctx.status = 200;
  ctx.set('Content-Type', 'text/event-stream; charset=utf-8');
  ctx.set('Cache-Control', 'no-cache');
  ctx.set('X-Accel-Buffering', 'no');
  ctx.respond = false;
  res.flushHeaders();
  let ended = false;
  const gone = () => ended || res.destroyed || res.writableEnded;
  return {
    send(data, event, id) {
      if (gone()) return false;
      let frame = '';
      if (id !== undefined) frame += `id: ${id}\n`;
      if (event !== undefined) frame += `event: ${event}\n`;
      res.write(`${frame}data: ${data}\n\n`);
      return true;
    },
    end() {
      if (ended) return;
      ended = true;
      if (!res.destroyed && !res.writableEnded) res.end();
    },
    get closed() {
      return gone();
    },
  };
}

/**
 * Two promises about one response: `written` resolves when it has been fully written (`finish`) and rejects when
 * the connection closed before (the core then drops the run's background jobs); `gone` fires `onGone` in that
 * second case, to cancel the run.
 */
export function responseWritten(ctx: KoaContext, onGone: () => void): Promise<void> {
  const res = ctx.res;
  const written = new Promise<void>((resolve, reject) => {
    res.once('finish', () => resolve());
    res.once('close', () => {
      if (res.writableFinished) return resolve();
      onGone();
      reject(new Error('the client closed the connection before the response was written'));
    });
  });
  // Observed here: a run without background jobs never reads it, and its rejection is not an error.
  written.catch(() => {});
  return written;
}
