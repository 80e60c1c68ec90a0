import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';

/**
 * The common ground of every local emulator: a `node:http` server on a free loopback port that decodes the request
 * (gzip included), records it, applies injected faults, and hands it to the service's handler. Services differ only
 * in their handler and in how they spell an error.
 */

export interface EmulatorRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** The body as sent, after `Content-Encoding: gzip` is undone. */
  readonly body: Buffer;
  readonly text: string;
}

export interface EmulatorResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

export interface RecordedRequest {
  readonly at: number;
  readonly method: string;
  readonly path: string;
  /** The service's name for what was asked (`SetDesiredCapacity`, `QueueDepth`, `resize`), when it has one. */
  readonly operation: string | undefined;
  readonly status: number;
  readonly fault?: FaultKind;
}

export const FAULT_KINDS = ['latency', 'error', 'throttle', 'timeout', 'garbage'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * `latency`: answer normally after `latencyMs`. `error`: a server error (`status`, default 500) in the service's own
 * format. `throttle`: the service's rate-limit error. `timeout`: never answer (the client's timeout must fire).
 * `garbage`: 200 with a body no client can parse.
 */
export interface FaultRule {
  readonly kind: FaultKind;
  /** Only requests for this operation (see `RecordedRequest.operation`); all when absent. */
  readonly operation?: string;
  readonly latencyMs?: number;
  readonly status?: number;
  /** Applies to this many matching requests, then retires. Unlimited when absent. */
  readonly times?: number;
  /** Applies to this share of matching requests (0..1). Every one when absent. */
  readonly fraction?: number;
}

/** How a service spells the errors a fault stands for. */
export interface FaultRenderer {
  serverError(status: number): EmulatorResponse;
  throttled(): EmulatorResponse;
}

export interface EmulatorOptions {
  readonly name: string;
  readonly handle: (request: EmulatorRequest) => EmulatorResponse | Promise<EmulatorResponse>;
  readonly operationOf?: (request: EmulatorRequest) => string | undefined;
  readonly faults: FaultRenderer;
  /** Epoch ms, for the request log. */
  readonly clock?: () => number;
  /** Uniform in [0, 1), for fractional faults. */
  readonly random?: () => number;
  readonly port?: number;
}

export interface Emulator {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly requests: readonly RecordedRequest[];
  injectFault(rule: FaultRule): void;
  clearFaults(): void;
  clearRequests(): void;
  close(): Promise<void>;
}

interface ActiveRule {
  readonly rule: FaultRule;
  remaining: number;
}

export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const clock = options.clock ?? Date.now;
  const random = options.random ?? Math.random;
  const requests: RecordedRequest[] = [];
  let rules: ActiveRule[] = [];
  const hanging = new Set<ServerResponse>();
  const delays = new Set<NodeJS.Timeout>();
  let closed = false;

  const faultFor = (operation: string | undefined): FaultRule | undefined => {
    for (const active of rules) {
      const { rule } = active;
      if (rule.operation !== undefined && rule.operation !== operation) {
        continue;
      }
      if (rule.fraction !== undefined && random() >= rule.fraction) {
        continue;
      }
      active.remaining -= 1;
      rules = rules.filter((candidate) => candidate.remaining > 0);
      return rule;
    }
    return undefined;
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void serve(req.method ?? 'GET', req.url ?? '/', req.headers, Buffer.concat(chunks), res);
    });
  });

  async function serve(
    method: string,
    url: string,
    headers: IncomingHttpHeaders,
    raw: Buffer,
    res: ServerResponse,
  ): Promise<void> {
    const parsed = new URL(url, 'http://127.0.0.1');
    let body = raw;
    let response: EmulatorResponse | undefined;
    if (headers['content-encoding'] === 'gzip') {
      try {
        body = gunzipSync(raw);
      } catch {
        response = { status: 400, body: 'request body is not valid gzip' };
      }
    }
    const request: EmulatorRequest = {
      method,
      path: parsed.pathname,
      query: parsed.searchParams,
      headers,
      body,
      text: body.toString('utf8'),
    };
    const operation = response === undefined ? safe(() => options.operationOf?.(request)) : undefined;
    const fault = response === undefined ? faultFor(operation) : undefined;
    const record = (status: number) =>
      requests.push({
        at: clock(),
        method,
        path: request.path,
        operation,
        status,
        ...(fault ? { fault: fault.kind } : {}),
      });

    if (fault?.kind === 'timeout') {
      record(0);
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    if (fault?.kind === 'latency') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          delays.delete(timer);
          resolve();
        }, fault.latencyMs ?? 1_000);
        delays.add(timer);
      });
      if (closed) {
        return;
      }
    }
    if (response === undefined) {
      response =
        fault?.kind === 'error'
          ? options.faults.serverError(fault.status ?? 500)
          : fault?.kind === 'throttle'
            ? options.faults.throttled()
            : fault?.kind === 'garbage'
              ? { status: 200, headers: { 'content-type': 'text/html' }, body: '<html><body>502 upstream garbage' }
              : await handleSafely(request);
    }
    record(response.status);
    if (!res.destroyed) {
      res.writeHead(response.status, response.headers ?? {});
      res.end(response.body ?? '');
    }
  }

  async function handleSafely(request: EmulatorRequest): Promise<EmulatorResponse> {
    try {
      return await options.handle(request);
    } catch (error) {
      // A bug in an emulator must be visible as such, not look like a flaky service.
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      return {
        status: 500,
        headers: { 'content-type': 'text/plain' },
        body: `${options.name} emulator bug: ${message}`,
      };
    }
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error(`${options.name} emulator has no TCP address`);
  }
  const { port } = address;
  return {
    name: options.name,
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    injectFault(rule) {
      if (rule.times !== undefined && (!Number.isInteger(rule.times) || rule.times < 1)) {
        throw new RangeError(`fault times must be a whole number of at least 1, got ${rule.times}`);
      }
      if (rule.fraction !== undefined && !(rule.fraction > 0 && rule.fraction <= 1)) {
        throw new RangeError(`fault fraction must be in (0, 1], got ${rule.fraction}`);
      }
      rules.push({ rule, remaining: rule.times ?? Number.POSITIVE_INFINITY });
    },
    clearFaults() {
      rules = [];
    },
    clearRequests() {
      requests.length = 0;
    },
    close() {
      closed = true;
      for (const timer of delays) {
        clearTimeout(timer);
      }
      delays.clear();
      for (const res of hanging) {
        res.destroy();
      }
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function safe<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
