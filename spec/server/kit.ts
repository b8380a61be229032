/** Shared by the server specs: serve agents on a free loopback port, and read responses. */
import { afterEach } from 'vitest';
import { Agent, type AgentOptions } from 'hookchain';
import { AgentServer, type AgentServerOptions } from 'hookchain/server';
import { OfflineModel } from 'hookchain/testing';

const open: AgentServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close({ timeoutMs: 2000 })));
});

/** Starts a server (closed after the test) and returns it with its URL. */
export async function serve(options: AgentServerOptions): Promise<{ server: AgentServer; url: string }> {
  const server = new AgentServer(options);
  open.push(server);
  const { url } = await server.listen({ port: 0 });
  return { server, url };
}

/** An agent on the offline model (echoing by default). */
export function offlineAgent(options: Partial<AgentOptions> & { reply?: string } = {}): Agent {
  const { reply, ...rest } = options;
  return new Agent({ name: 'echo', model: new OfflineModel(reply === undefined ? {} : { reply }), ...rest });
}

/** A response's JSON body, typed loosely for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function json(res: Response | Promise<Response>): Promise<any> {
  return (await res).json();
}

/** POSTs JSON. */
export function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** One parsed SSE frame. */
export interface SseFrame {
  id?: string;
  event?: string;
  data: string;
}

/** Parses an SSE body into frames. */
export function parseSse(text: string): SseFrame[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const frame: SseFrame = { data: '' };
      for (const line of block.split('\n')) {
        const i = line.indexOf(': ');
        const [key, value] = i === -1 ? [line, ''] : [line.slice(0, i), line.slice(i + 2)];
        if (key === 'id') frame.id = value;
        else if (key === 'event') frame.event = value;
        else if (key === 'data') frame.data = value;
      }
      return frame;
    });
}
