/** One API process of the scale-out example: serves the agent on a free loopback port and prints its URL. */
import { AgentServer } from 'hookchain/server';
import { buildAgent } from './agent.ts';

const services = { redisUrl: process.env['REDIS_URL']!, databaseUrl: process.env['DATABASE_URL']! };
const server = new AgentServer({ agents: [buildAgent(services)] });
const { url } = await server.listen({ port: 0 });
console.log(`listening ${url}`);
process.on('SIGTERM', () => void server.close({ timeoutMs: 5_000 }).then(() => process.exit(0)));
