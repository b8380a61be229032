/**
 * Preloaded (`node --import`) by spec/docs.spec.ts into every documentation example it runs: any TCP connection
 * to a host other than the loopback fails, so an example that would call a real API fails loudly instead.
 */
import net from 'node:net';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const connect = net.Socket.prototype.connect;

net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
  const first = args[0];
  const options = (Array.isArray(first) ? first[0] : first) as { host?: unknown; path?: unknown } | number | string;
  let host: unknown = 'localhost';
  if (typeof options === 'object' && options !== null) host = options.path !== undefined ? 'localhost' : (options.host ?? 'localhost');
  else if (typeof options === 'number' && typeof args[1] === 'string') host = args[1];
  if (typeof host !== 'string' || !LOOPBACK.has(host)) {
    throw new Error(
      `documentation examples run offline: connection to ${String(host)} refused (use startFakeOpenAI() or OfflineModel from 'hookchain/testing')`,
    );
  }
  return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;
