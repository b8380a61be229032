/** One worker process of the scale-out example: runs the background hooks the API processes enqueue. */
import { createBackgroundWorker } from 'hookchain/bullmq';
import { QUEUE, buildAgent } from './agent.ts';

const worker = await createBackgroundWorker({ agents: [buildAgent()], connection: { url: process.env['REDIS_URL']! }, queueName: QUEUE });
console.log('ready');
process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
