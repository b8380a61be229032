/**
 * `AgentServer`: the agent routes on their own Koa app, with `listen()` and a graceful `close()` (DESIGN §10).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { HookchainConfigError } from '../errors.ts';
import { checkOptions, is } from '../options.ts';
import { checkServerOptions, type AgentServerOptions } from './options.ts';
import { createRoutes } from './routes.ts';
import type { RouteState } from './state.ts';

/** What `server.listen(options)` takes. */
export interface ListenOptions {
  /** The port; `0` (default) picks a free one, read it from the resolved `url`. */
  port?: number;
  /** The interface (default `'127.0.0.1'`); any other than loopback needs auth or `allowUnauthenticated: true`. */
  host?: string;
}

/** What `server.listen()` resolves with. */
export interface Listening {
  /** Where the server listens, such as `http://127.0.0.1:7777` (the port picked when you passed 0). */
  url: string;
}

/** What `server.close(options)` takes. */
export interface CloseOptions {
  /** How long in-flight runs may take to finish before they are cancelled, in milliseconds (default 10 000). */
  timeoutMs?: number;
}

const LOOPBACK = /^(127(?:\.\d{1,3}){3}|::1|localhost|::ffff:127(?:\.\d{1,3}){3})$/i;

/**
 * Serves agents over HTTP on Koa: native JSON and SSE runs, background runs, human approval, sessions and an
 * OpenAI-compatible `/v1/chat/completions`, with auth, limits and the one error shape of DESIGN §10. Background
 * hooks start only after the response has been written; a client that disconnects cancels its run.
 *
 * `server.app` is the Koa application: middleware you add with `server.app.use()` runs around the agent routes
 * (they stay last, whenever you add it).
 *
 * @example
 * const server = new AgentServer({ agents: [support], apiKeys: { 'sk-live-1': { userId: 'alice' } } });
 * server.app.use(async (ctx, next) => { const t = Date.now(); await next(); console.log(ctx.path, Date.now() - t); });
 * const { url } = await server.listen({ port: 7777 });
 * // later: in-flight runs finish, background hooks drain, stores close
 * await server.close({ timeoutMs: 10_000 });
 */
export class AgentServer {
  /** The Koa application serving the routes: add your own middleware with `app.use()`. */
  readonly app: Koa;
  /** `'/console'` when the run console is on (`console` option), else undefined: append it to the URL to open it. */
  readonly consolePath: string | undefined;
  readonly #state: RouteState;
  readonly #closeConsole: (() => void) | undefined;
  readonly #options: AgentServerOptions;
  #server: Server | undefined;
  #closed: Promise<void> | undefined;
  #onSignal: (() => void) | undefined;
  #callback: ReturnType<Koa['callback']> | undefined;

  /**
   * Checks the options and builds the app; nothing listens yet. An unknown option, a wrong type or two agents with
   * one id throw a `HookchainConfigError` naming the fix.
   *
   * @param options The agents, and auth, limits and behaviour (`AgentServerOptions`).
   */
  constructor(options: AgentServerOptions) {
    const o = checkServerOptions(options);
    const { agents, allowUnauthenticated: _a, installSignalHandlers: _i, console: consoleOption, ...routeOptions } = o;
    const consoleOptions = consoleOption === true ? {} : consoleOption === false ? undefined : consoleOption;
    const { middleware, state, console: runConsole } = createRoutes('AgentServer', agents, routeOptions, consoleOptions);
    this.#state = state;
    this.#closeConsole = runConsole?.close;
    this.consolePath = runConsole === undefined ? undefined : '/console';
    this.#options = o;
    const app = new Koa();
    app.use(middleware);
    const use = app.use.bind(app);
    // The routes answer and end the chain, so they stay last: a user's middleware always runs around them.
    app.use = ((fn: Koa.Middleware) => {
      use(fn);
      app.middleware.splice(app.middleware.indexOf(middleware), 1);
      app.middleware.push(middleware);
      this.#callback = undefined;
      return app;
    }) as typeof app.use;
    this.app = app;
  }

  /**
   * Starts listening. Refuses a host other than loopback when the server has no auth, unless
   * `allowUnauthenticated: true`. With `installSignalHandlers`, SIGTERM and SIGINT then close the server and exit.
   *
   * @param options `port` (default 0: a free one) and `host` (default `'127.0.0.1'`).
   * @returns The URL it listens on, such as `http://127.0.0.1:7777`.
   *
   * @example
   * const { url } = await server.listen({ port: 0 });
   * await fetch(`${url}/health`);
   */
  async listen(options: ListenOptions = {}): Promise<Listening> {
    const { port = 0, host = '127.0.0.1' } = checkOptions<ListenOptions>('server.listen()', options, {
      port: (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535 ? undefined : 'a port from 0 to 65535'),
      host: is.nonEmptyString,
    });
    if (this.#server !== undefined) throw new HookchainConfigError('INVALID_STATE', 'server.listen(): the server is listening already');
    if (this.#closed !== undefined)
      throw new HookchainConfigError('INVALID_STATE', 'server.listen(): the server was closed; build a new one');
    const state = this.#state;
    if (!LOOPBACK.test(host) && state.auth === undefined && this.#options.allowUnauthenticated !== true) {
      throw new HookchainConfigError(
        'UNAUTHENTICATED_SERVER',
        `server.listen(): refusing to listen on "${host}" without auth; give the server apiKeys or authenticate, or pass allowUnauthenticated: true if something in front of it authenticates`,
      );
    }
    const timeout = state.options.requestTimeoutMs;
    const server = createServer(
      // Node's own backstop for a client that stalls while sending headers or a body; the routes time bodies out first.
      { requestTimeout: timeout + 1000, headersTimeout: timeout, connectionsCheckingInterval: Math.min(1000, timeout) },
      // Composed again after each app.use(), so middleware added after listen() applies too.
      (req, res) => (this.#callback ??= this.app.callback())(req, res),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    if (this.#options.installSignalHandlers === true) this.#installSignalHandlers();
    const address = server.address() as AddressInfo;
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return { url: `http://${shown}:${address.port}` };
  }

  /**
   * Closes gracefully: new requests answer 503; in-flight requests and background runs finish (those still going
   * at `timeoutMs` are cancelled); then every agent's background queue drains, stores with a `close()` are closed,
   * and the listener stops. No accepted run and no queued background hook is lost. Calling it again returns the
   * same promise.
   *
   * @param options `timeoutMs` (default 10 000): how long in-flight runs may take.
   *
   * @example
   * process.on('SIGTERM', () => void server.close({ timeoutMs: 30_000 }).then(() => process.exit(0)));
   */
  close(options: CloseOptions = {}): Promise<void> {
    const { timeoutMs = 10_000 } = checkOptions<CloseOptions>('server.close()', options, { timeoutMs: is.timeoutMs });
    return (this.#closed ??= this.#close(timeoutMs));
  }

  async #close(timeoutMs: number): Promise<void> {
    const state = this.#state;
    state.closing = true;
    // The console's event streams never end by themselves: end them, so only runs are waited for.
    this.#closeConsole?.();
    if (!(await idle(state, timeoutMs))) {
      for (const controller of state.aborts) controller.abort(new Error('the server closed before the run finished'));
      await idle(state, 1000);
    }
    // Responses written: their runs' background jobs are handed to the queues a tick later.
    await new Promise((resolve) => setImmediate(resolve));
    const agents = [...state.agents.values()];
    await Promise.all([...new Set(agents.map((a) => a.backgroundQueue))].map((q) => q.drain()));
    for (const store of new Set(agents.map((a) => a.sessionStore))) {
      const close = (store as { close?: () => unknown }).close;
      if (typeof close === 'function') await close.call(store);
    }
    this.#removeSignalHandlers();
    const server = this.#server;
    if (server !== undefined) {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await stopped;
    }
  }

  #installSignalHandlers(): void {
    const onSignal = () => {
      void this.close().finally(() => process.exit(0));
    };
    this.#onSignal = onSignal;
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  #removeSignalHandlers(): void {
    if (this.#onSignal === undefined) return;
    process.off('SIGTERM', this.#onSignal);
    process.off('SIGINT', this.#onSignal);
    this.#onSignal = undefined;
  }
}

/** Resolves true once no request is being answered and no background run is going, or false after `ms`. */
function idle(state: RouteState, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      clearTimeout(timer);
      state.onIdle = undefined;
      resolve(value);
    };
    const timer = setTimeout(() => done(false), ms);
    state.onIdle = () => {
      if (state.requests === 0 && state.work.size === 0) done(true);
    };
    state.onIdle();
  });
}
