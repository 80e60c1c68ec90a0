import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TOLERANCE_SECONDS,
  GUARD_START_SLACK_MS,
  SIGNATURE_HEADER,
  signWebhookBody,
  TIMESTAMP_HEADER,
} from '../../../shared/webhook/hmac.ts';
import { createInMemoryReplayGuard } from '../../../shared/webhook/replay-guard.ts';
import {
  MAX_BODY_BYTES,
  problemResponse,
  type WebhookRequest,
  type WebhookResponse,
} from '../../../shared/webhook/request.ts';
import { CURRENT_SECRET, createHarness, PREVIOUS_SECRET } from './harness.ts';

/**
 * Properties of the webhook's front door, on generated requests: genuine ones are accepted exactly once; forged,
 * truncated, altered, stale, replayed and oversize ones never reach a handler, and every authentication refusal is
 * the same 401 document. Seeds are fixed so a failure replays; fast-check prints the shrunk counterexample.
 */

const SEED = 20_260_808;
const RUNS = 150;

/** The one 401 answer: any difference between refusals would tell a forger which check failed. */
const UNAUTHORIZED = problemResponse(401, 'the request is not authenticated', {
  'www-authenticate': 'Fleetplane-HMAC-SHA256',
});

/** Server clocks between 2020 and 2100, in whole seconds and with milliseconds. */
const nowMs = fc.integer({ min: 1_577_836_800_000, max: 4_102_444_800_000 });

/** A client clock within the tolerance of the server's: the timestamp a genuine client would send. */
function timestampWithin(now: number) {
  const nowSeconds = Math.floor(now / 1000);
  // The oldest whole second still within 300 000 ms of `now`, and the newest.
  return fc.integer({ min: Math.ceil((now - DEFAULT_TOLERANCE_SECONDS * 1000) / 1000), max: nowSeconds + 300 });
}

/** What a genuine client sends: GET /health with any body, or POST /rotate with any JSON. */
const genuineShape = fc.oneof(
  fc.record({
    method: fc.constantFrom('GET', 'HEAD'),
    path: fc.constant('/health'),
    body: fc.uint8Array({ maxLength: 2048 }),
  }),
  fc.record({
    method: fc.constant('POST'),
    path: fc.constant('/rotate'),
    body: fc.oneof(
      fc.constant(new Uint8Array()),
      fc.json().map((text) => new TextEncoder().encode(text)),
    ),
  }),
);

/** Header names as clients may spell them: HTTP names are case-insensitive. */
const headerCasing = fc.array(fc.boolean(), { minLength: 22, maxLength: 22 });

function recase(name: string, flips: readonly boolean[]): string {
  return [...name].map((char, index) => (flips[index] ? char.toUpperCase() : char)).join('');
}

const genuineRequest = nowMs.chain((now) =>
  fc.record({
    now: fc.constant(now),
    timestamp: timestampWithin(now),
    secret: fc.constantFrom(CURRENT_SECRET, PREVIOUS_SECRET),
    shape: genuineShape,
    casing: headerCasing,
  }),
);

type Genuine = typeof genuineRequest extends fc.Arbitrary<infer T> ? T : never;

function build(input: Genuine, overrides: { timestamp?: string; signature?: string; body?: Uint8Array } = {}) {
  const timestamp = String(input.timestamp);
  const signature = signWebhookBody(input.secret, timestamp, input.shape.body);
  const request: WebhookRequest = {
    method: input.shape.method,
    path: input.shape.path,
    headers: {
      [recase(TIMESTAMP_HEADER, input.casing)]: overrides.timestamp ?? timestamp,
      [recase(SIGNATURE_HEADER, input.casing)]: overrides.signature ?? signature,
      accept: 'application/json',
    },
    body: overrides.body ?? input.shape.body,
  };
  return { request, signature };
}

/** Another timestamp within the tolerance of `input.now`, `shift` seconds on (wrapping round the window). */
function redate(input: Genuine, shift: number): number {
  const oldest = Math.ceil((input.now - DEFAULT_TOLERANCE_SECONDS * 1000) / 1000);
  const newest = Math.floor(input.now / 1000) + DEFAULT_TOLERANCE_SECONDS;
  return oldest + ((input.timestamp - oldest + shift) % (newest - oldest + 1));
}

/** Sends each request to a fresh router at `now` and proves none reached a handler. */
async function expectAllRefused(now: number, requests: readonly WebhookRequest[], status = 401): Promise<void> {
  const { router, handlerCalls } = createHarness({ nowMs: now });
  for (const request of requests) {
    const response = await router(request);
    expect(response.status).toBe(status);
    if (status === 401) {
      expectUnauthorized(request, response);
    }
  }
  expect(handlerCalls()).toBe(0);
}

function expectUnauthorized(request: WebhookRequest, response: WebhookResponse): void {
  expect(response).toEqual(request.method === 'HEAD' ? { ...UNAUTHORIZED, body: '' } : UNAUTHORIZED);
}

const assertOptions = { seed: SEED, numRuns: RUNS };

describe('webhook properties', () => {
  it('accepts every genuine request exactly once, whatever the header names’ case', async () => {
    await fc.assert(
      fc.asyncProperty(genuineRequest, async (input) => {
        // Prepare
        const { router, handlerCalls } = createHarness({ nowMs: input.now });
        const { request } = build(input);

        // Act
        const first = await router(request);
        const again = await router(request);

        // Assess
        expect(first.status).toBeLessThan(300);
        expectUnauthorized(request, again);
        expect(handlerCalls()).toBe(1);
      }),
      assertOptions,
    );
  });

  it('lets exactly one of many concurrent copies of a genuine request through', async () => {
    await fc.assert(
      fc.asyncProperty(genuineRequest, fc.integer({ min: 2, max: 12 }), async (input, copies) => {
        // Prepare
        const { router, handlerCalls } = createHarness({ nowMs: input.now });
        const { request } = build(input);

        // Act
        const responses = await Promise.all(Array.from({ length: copies }, () => router(request)));

        // Assess
        expect(responses.filter((response) => response.status < 300)).toHaveLength(1);
        expect(handlerCalls()).toBe(1);
      }),
      assertOptions,
    );
  });

  it('refuses forged signatures: random digests and digests made with any other secret', async () => {
    const otherSecret = fc
      .string({ minLength: 32, maxLength: 80 })
      .filter((secret) => secret !== CURRENT_SECRET && secret !== PREVIOUS_SECRET);
    const randomDigest = fc
      .uint8Array({ minLength: 32, maxLength: 32 })
      .map((bytes) => Buffer.from(bytes).toString('hex'));
    await fc.assert(
      fc.asyncProperty(genuineRequest, otherSecret, randomDigest, async (input, secret, digest) => {
        // Prepare
        const { signature } = build(input);
        const forged = [
          build(input, { signature: signWebhookBody(secret, input.timestamp, input.shape.body) }).request,
          build(input, { signature: `sha256=${digest}` }).request,
        ];
        fc.pre(!forged.some((request) => Object.values(request.headers).includes(signature)));

        // Act + Assess
        await expectAllRefused(input.now, forged);
      }),
      assertOptions,
    );
  });

  it('refuses truncated requests: the body, the signature or the timestamp cut short', async () => {
    await fc.assert(
      fc.asyncProperty(genuineRequest, fc.nat(), async (input, cut) => {
        // Prepare
        const { signature } = build(input);
        const timestamp = String(input.timestamp);
        const truncated = [
          build(input, { signature: signature.slice(0, cut % signature.length) }).request,
          build(input, { timestamp: timestamp.slice(0, cut % timestamp.length) }).request,
        ];
        if (input.shape.body.length > 0) {
          truncated.push(build(input, { body: input.shape.body.slice(0, cut % input.shape.body.length) }).request);
        }

        // Act + Assess
        await expectAllRefused(input.now, truncated);
      }),
      assertOptions,
    );
  });

  it('refuses altered requests: any byte of body, timestamp or signature changed, or bytes appended', async () => {
    const alteration = fc.record({
      position: fc.nat(),
      // XOR with a non-zero mask always changes the byte.
      mask: fc.integer({ min: 1, max: 255 }),
      printable: fc.integer({ min: 0x20, max: 0x7e }),
      tail: fc.uint8Array({ minLength: 1, maxLength: 16 }),
      shift: fc.integer({ min: 1, max: 599 }),
    });
    await fc.assert(
      fc.asyncProperty(genuineRequest, alteration, async (input, { position, mask, printable, tail, shift }) => {
        // Prepare
        const { signature } = build(input);
        const timestamp = String(input.timestamp);
        const replaceChar = (text: string) => {
          const index = position % text.length;
          const original = text.charCodeAt(index);
          const replacement = printable === original ? ((printable - 0x20 + 1) % 95) + 0x20 : printable;
          return `${text.slice(0, index)}${String.fromCharCode(replacement)}${text.slice(index + 1)}`;
        };
        const altered = [
          build(input, { signature: replaceChar(signature) }).request,
          build(input, { timestamp: replaceChar(timestamp) }).request,
          build(input, { body: Buffer.concat([input.shape.body, tail]) }).request,
          // Re-dated to another timestamp that is itself fresh, under the old signature.
          build(input, { timestamp: String(redate(input, shift)) }).request,
        ];
        if (input.shape.body.length > 0) {
          const body = Uint8Array.from(input.shape.body);
          const index = position % body.length;
          body[index] = (body[index] ?? 0) ^ mask;
          altered.push(build(input, { body }).request);
        }

        // Act + Assess
        await expectAllRefused(input.now, altered);
      }),
      assertOptions,
    );
  });

  it('refuses a second spelling of an accepted signature or timestamp, so none can slip past the replay guard', async () => {
    await fc.assert(
      fc.asyncProperty(genuineRequest, async (input) => {
        // Prepare
        const { router, handlerCalls } = createHarness({ nowMs: input.now });
        const { request, signature } = build(input);
        const timestamp = String(input.timestamp);
        const hex = signature.slice('sha256='.length);
        const respelled = [
          `sha256=${hex.toUpperCase()}`,
          `SHA256=${hex}`,
          ` ${signature}`,
          `${signature} `,
          `${signature}0`,
          `${signature}, ${signature}`,
        ]
          .filter((spelling) => spelling !== signature)
          .map((spelling) => build(input, { signature: spelling }).request);
        respelled.push(
          build(input, { timestamp: `0${timestamp}` }).request,
          build(input, { timestamp: `${timestamp} ` }).request,
        );

        // Act
        const accepted = await router(request);
        const others = [];
        for (const variant of respelled) {
          others.push(await router(variant));
        }

        // Assess
        expect(accepted.status).toBeLessThan(300);
        for (const [index, response] of others.entries()) {
          expectUnauthorized(respelled[index] ?? request, response);
        }
        expect(handlerCalls()).toBe(1);
      }),
      assertOptions,
    );
  });

  it('refuses correctly signed requests whose timestamp is too old or too far ahead', async () => {
    const skew = fc.oneof(
      fc.integer({ min: DEFAULT_TOLERANCE_SECONDS + 1, max: 10 * 365 * 86_400 }),
      fc.integer({ min: -10 * 365 * 86_400, max: -(DEFAULT_TOLERANCE_SECONDS + 1) }),
    );
    await fc.assert(
      fc.asyncProperty(genuineRequest, skew, async (input, seconds) => {
        // Prepare
        const stale = build({ ...input, timestamp: Math.floor(input.now / 1000) + seconds }).request;

        // Act + Assess
        await expectAllRefused(input.now, [stale]);
      }),
      assertOptions,
    );
  });

  it('refuses a replay at any later moment of the window, and after it the timestamp check refuses it', async () => {
    await fc.assert(
      fc.asyncProperty(
        genuineRequest,
        fc.integer({ min: 0, max: 2 * DEFAULT_TOLERANCE_SECONDS * 1000 + 5_000 }),
        async (input, laterMs) => {
          // Prepare
          const { router, handlerCalls, setNow } = createHarness({ nowMs: input.now });
          const { request } = build(input);
          await router(request);

          // Act
          setNow(input.now + laterMs);
          const replay = await router(request);

          // Assess
          expectUnauthorized(request, replay);
          expect(handlerCalls()).toBe(1);
        },
      ),
      assertOptions,
    );
  });

  it('refuses correctly signed bodies over 64 KiB with 413 before anything else', async () => {
    await fc.assert(
      fc.asyncProperty(
        genuineRequest,
        fc.integer({ min: MAX_BODY_BYTES + 1, max: 4 * MAX_BODY_BYTES }),
        fc.integer({ min: 0, max: 255 }),
        async (input, size, fill) => {
          // Prepare
          const body = new Uint8Array(size).fill(fill);
          const oversize = build({ ...input, shape: { ...input.shape, body } }).request;

          // Act + Assess
          await expectAllRefused(input.now, [oversize], 413);
        },
      ),
      { ...assertOptions, numRuns: 40 },
    );
  });

  it('after a cold start, refuses every replay of a request signed more than the slack before the instance started', async () => {
    await fc.assert(
      fc.asyncProperty(
        genuineRequest,
        fc.integer({ min: 1, max: DEFAULT_TOLERANCE_SECONDS * 1000 - GUARD_START_SLACK_MS - 1 }),
        async (input, later) => {
          // Prepare: an instance that started after the request was signed, plus the slack, still within tolerance
          const { request } = build(input);
          const startedAt = input.timestamp * 1000 + GUARD_START_SLACK_MS + later;
          const cold = createHarness({ nowMs: startedAt, guardSince: startedAt });

          // Act
          const response = await cold.router(request);

          // Assess
          expect(response.status).toBe(401);
          expect(cold.handlerCalls()).toBe(0);
        },
      ),
      assertOptions,
    );
  });

  it('after a cold start, accepts the request that woke it: one signed within the slack before it started', async () => {
    await fc.assert(
      fc.asyncProperty(genuineRequest, fc.integer({ min: 0, max: GUARD_START_SLACK_MS }), async (input, before) => {
        // Prepare
        const { request } = build(input);
        const startedAt = input.timestamp * 1000 + before;
        const cold = createHarness({ nowMs: startedAt, guardSince: startedAt });

        // Act
        const response = await cold.router(request);

        // Assess
        expect(response.status).toBeLessThan(300);
      }),
      assertOptions,
    );
  });

  it('without a start time, accepts a replay after a cold start: only the slack or a shared guard stops it', async () => {
    // A fresh in-memory guard given no start time knows nothing of what an earlier instance accepted. This pins down
    // why the composition roots pass `guardSince`; with one guard shared by both "instances" the gap is closed.
    await fc.assert(
      fc.asyncProperty(genuineRequest, async (input) => {
        // Prepare
        const { request } = build(input);
        const warm = createHarness({ nowMs: input.now });
        const cold = createHarness({ nowMs: input.now });
        const shared = createInMemoryReplayGuard({ clock: () => input.now });
        const first = createHarness({ nowMs: input.now, guard: shared });
        const second = createHarness({ nowMs: input.now, guard: shared });

        // Act
        const statuses = [
          (await warm.router(request)).status,
          (await cold.router(request)).status,
          (await first.router(request)).status,
          (await second.router(request)).status,
        ];

        // Assess
        expect(statuses.map((status) => status < 300)).toEqual([true, true, true, false]);
        expect(second.handlerCalls()).toBe(0);
      }),
      assertOptions,
    );
  });
});
