import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A scripted answer; `hang` keeps the response open so the client's timeout fires. */
export type Reply =
  | { readonly status?: number; readonly headers?: Record<string, string>; readonly body?: string }
  | 'hang';

export interface LoopbackServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Queues replies, served in order; an unscripted request gets a 599 so the test fails loudly. */
  reply(...replies: Reply[]): void;
  reset(): void;
  close(): Promise<void>;
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** A real HTTP server on 127.0.0.1 with an ephemeral port, so tests see headers, path and body as sent. */
export async function startLoopbackServer(): Promise<LoopbackServer> {
  const requests: RecordedRequest[] = [];
  const replies: Reply[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const reply = replies.shift() ?? { status: 599, body: 'no reply scripted' };
      if (reply === 'hang') {
        hanging.push(res);
        return;
      }
      res.writeHead(reply.status ?? 200, reply.headers ?? {});
      res.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('loopback server has no TCP address');
  }
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    reply: (...more) => replies.push(...more),
    reset() {
      requests.length = 0;
      replies.length = 0;
      for (const res of hanging.splice(0)) {
        res.destroy();
      }
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
