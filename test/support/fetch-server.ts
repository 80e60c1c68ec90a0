import { createServer } from 'node:http';

export interface FetchServer {
  readonly url: string;
  readonly requests: { readonly path: string; readonly authorization: string | undefined }[];
  close(): Promise<void>;
}

/**
 * Serves a fetch-style handler on 127.0.0.1 so code under test talks real HTTP to an in-process fake. Requests without
 * `Authorization: token <token>` get 401, as on Sourcegraph.
 */
export async function serveOverLoopback(
  handler: (url: string, init: RequestInit) => Promise<Response>,
  token: string,
): Promise<FetchServer> {
  const requests: FetchServer['requests'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      requests.push({ path: req.url ?? '', authorization: req.headers.authorization });
      if (req.headers.authorization !== `token ${token}`) {
        res.writeHead(401, { 'content-type': 'text/plain' }).end('Invalid access token.\n');
        return;
      }
      const response = await handler(req.url ?? '/', {
        method: req.method,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(response.status, Object.fromEntries(response.headers)).end(await response.text());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('no TCP address');
  }
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
