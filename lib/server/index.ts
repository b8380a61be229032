/**
 * `hookchain/server`: serve agents over HTTP on Koa (DESIGN §10). Only this entry point loads Koa; `hookchain`
 * itself never does.
 */
export { AgentServer, type CloseOptions, type ListenOptions, type Listening } from './server.ts';
export { agentRoutes } from './routes.ts';
export type {
  AgentRoutesOptions,
  AgentServerOptions,
  BlockedInfo,
  ConsoleOptions,
  Principal,
  RateLimitOptions,
  ServedAgent,
} from './options.ts';
