import { describe, expect, it } from 'vitest';
import {
  createHmacAuthenticator,
  DEFAULT_TOLERANCE_SECONDS,
  HMAC_CHALLENGE,
  SIGNATURE_HEADER,
  signWebhookBody,
  TIMESTAMP_HEADER,
  WebhookSecretError,
  webhookSignatureHeaders,
} from '../../../shared/webhook/hmac.ts';
import { createInMemoryReplayGuard, type ReplayGuard } from '../../../shared/webhook/replay-guard.ts';
import { CURRENT_SECRET, NOW_MS, PREVIOUS_SECRET, signedRequest, withHeader } from './harness.ts';

const NOW_SECONDS = NOW_MS / 1000;

/** An authenticator at `NOW_MS` whose secret reads and guard claims are counted. */
function subject(secrets: readonly string[] = [CURRENT_SECRET, PREVIOUS_SECRET], guard?: ReplayGuard) {
  const clock = () => NOW_MS;
  const inner = guard ?? createInMemoryReplayGuard({ clock });
  const counts = { secretReads: 0, claims: 0 };
  const authenticator = createHmacAuthenticator({
    secrets: async () => {
      counts.secretReads += 1;
      return secrets;
    },
    replayGuard: {
      claim: (key, expiresAt) => {
        counts.claims += 1;
        return inner.claim(key, expiresAt);
      },
    },
    clock,
  });
  return { authenticator, counts };
}

describe('signWebhookBody', () => {
  it('matches `openssl dgst -sha256 -hmac` over "<timestamp>.<body>", as the README tells clients to sign', () => {
    // Prepare: printf '%s.%s' 1700000000 '{"rotation":"manual-1"}' | openssl dgst -sha256 -hmac '<secret>' (OpenSSL 3.0)
    const secret = 'example-secret-0123456789abcdef0123456789';

    // Act
    const signature = signWebhookBody(secret, 1_700_000_000, '{"rotation":"manual-1"}');

    // Assess
    expect(signature).toBe('sha256=81477ce60000334ca74e4cbb9e5dad7c3bda0b0fe6c6d29ba5750289a5db0505');
  });

  it('signs text and its UTF-8 bytes alike, and a whole-second timestamp as a number or a string alike', () => {
    // Act
    const fromText = signWebhookBody(CURRENT_SECRET, 1_700_000_000, '{"note":"é"}');
    const fromBytes = signWebhookBody(CURRENT_SECRET, '1700000000', new TextEncoder().encode('{"note":"é"}'));

    // Assess
    expect(fromText).toBe(fromBytes);
    expect(fromText).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('builds both headers from a millisecond clock, keeping the milliseconds', () => {
    // Act
    const headers = webhookSignatureHeaders(CURRENT_SECRET, NOW_MS + 999, '');

    // Assess
    expect(headers).toEqual({
      [TIMESTAMP_HEADER]: `${NOW_SECONDS}.999`,
      [SIGNATURE_HEADER]: signWebhookBody(CURRENT_SECRET, `${NOW_SECONDS}.999`, ''),
    });
  });

  it('accepts two bodiless requests signed within one second, each once', async () => {
    // Prepare
    const { authenticator } = subject();
    const at = (ms: number) => ({
      method: 'GET',
      path: '/health',
      headers: webhookSignatureHeaders(CURRENT_SECRET, NOW_MS + ms, ''),
      body: new Uint8Array(),
    });

    // Act
    const verdicts = await Promise.all(
      [at(100), at(200), at(100)].map((request) => authenticator.authenticate(request)),
    );

    // Assess
    expect(verdicts.map((verdict) => verdict.accepted)).toEqual([true, true, false]);
  });
});

describe('createHmacAuthenticator', () => {
  it('accepts a request signed with the current secret or the previous one, each once', async () => {
    // Prepare
    const { authenticator } = subject();
    const current = signedRequest({ secret: CURRENT_SECRET, body: '{}' });
    const previous = signedRequest({ secret: PREVIOUS_SECRET, body: '{}' });

    // Act
    const verdicts = [
      await authenticator.authenticate(current),
      await authenticator.authenticate(previous),
      await authenticator.authenticate(current),
    ];

    // Assess
    expect(verdicts).toEqual([{ accepted: true }, { accepted: true }, { accepted: false, reason: 'replayed' }]);
    expect(authenticator.challenge).toBe(HMAC_CHALLENGE);
  });

  it.each([
    ['the newest accepted', DEFAULT_TOLERANCE_SECONDS, true],
    ['the oldest accepted', -DEFAULT_TOLERANCE_SECONDS, true],
    ['one second too far ahead', DEFAULT_TOLERANCE_SECONDS + 1, false],
    ['one second too old', -DEFAULT_TOLERANCE_SECONDS - 1, false],
  ])('judges a timestamp %s (%i s from now)', async (_name, offsetSeconds, accepted) => {
    // Prepare
    const { authenticator } = subject();
    const request = signedRequest({ timestamp: NOW_SECONDS + offsetSeconds });

    // Act
    const verdict = await authenticator.authenticate(request);

    // Assess
    expect(verdict).toEqual(accepted ? { accepted } : { accepted, reason: 'timestamp-outside-tolerance' });
  });

  it('counts the tolerance in milliseconds of the server clock, not whole seconds', async () => {
    // Prepare: the oldest timestamp accepted at NOW_MS is refused 1 ms later.
    const clock = () => NOW_MS + 1;
    const authenticator = createHmacAuthenticator({
      secrets: async () => [CURRENT_SECRET],
      replayGuard: createInMemoryReplayGuard({ clock }),
      clock,
    });

    // Act
    const verdict = await authenticator.authenticate(signedRequest({ timestamp: NOW_SECONDS - 300 }));

    // Assess
    expect(verdict).toEqual({ accepted: false, reason: 'timestamp-outside-tolerance' });
  });

  it.each([
    ['no timestamp', { [TIMESTAMP_HEADER]: undefined }, 'missing-timestamp'],
    ['a timestamp with a space', { [TIMESTAMP_HEADER]: ` ${NOW_SECONDS}` }, 'malformed-timestamp'],
    ['a signed timestamp', { [TIMESTAMP_HEADER]: `+${NOW_SECONDS}` }, 'malformed-timestamp'],
    ['a timestamp in milliseconds', { [TIMESTAMP_HEADER]: String(NOW_MS) }, 'malformed-timestamp'],
    ['a timestamp finer than milliseconds', { [TIMESTAMP_HEADER]: `${NOW_SECONDS}.5000` }, 'malformed-timestamp'],
    ['a timestamp with a bare point', { [TIMESTAMP_HEADER]: `${NOW_SECONDS}.` }, 'malformed-timestamp'],
    ['a respelt timestamp', { [TIMESTAMP_HEADER]: `${NOW_SECONDS}.0` }, 'signature-mismatch'],
    ['no signature', { [SIGNATURE_HEADER]: undefined }, 'missing-signature'],
    ['a signature without its prefix', { [SIGNATURE_HEADER]: 'a'.repeat(64) }, 'malformed-signature'],
    ['upper-case hex', { [SIGNATURE_HEADER]: `sha256=${'A'.repeat(64)}` }, 'malformed-signature'],
    ['a short signature', { [SIGNATURE_HEADER]: `sha256=${'a'.repeat(62)}` }, 'malformed-signature'],
    ['another algorithm', { [SIGNATURE_HEADER]: `sha1=${'a'.repeat(40)}` }, 'malformed-signature'],
    ['a wrong signature', { [SIGNATURE_HEADER]: `sha256=${'0'.repeat(64)}` }, 'signature-mismatch'],
  ])('refuses %s, naming why for the logs', async (_name, headers, reason) => {
    // Prepare
    const { authenticator } = subject();
    const signed = signedRequest({ body: '{}' });
    const request = { ...signed, headers: { ...signed.headers, ...headers } };

    // Act
    const verdict = await authenticator.authenticate(request);

    // Assess
    expect(verdict).toEqual({ accepted: false, reason });
  });

  it('refuses a signature header sent twice, even if one copy is right', async () => {
    // Prepare
    const { authenticator } = subject();
    const signed = signedRequest();
    const request = withHeader(signed, 'X-Fleetplane-Signature', `sha256=${'0'.repeat(64)}`);

    // Act
    const verdict = await authenticator.authenticate(request);

    // Assess
    expect(verdict).toEqual({ accepted: false, reason: 'malformed-signature' });
  });

  it('reads no secret and claims nothing for a malformed or stale request', async () => {
    // Prepare
    const { authenticator, counts } = subject();

    // Act
    await authenticator.authenticate(signedRequest({ timestamp: NOW_SECONDS - 3600 }));
    await authenticator.authenticate(withHeader(signedRequest(), SIGNATURE_HEADER, 'sha256=zz'));

    // Assess
    expect(counts).toEqual({ secretReads: 0, claims: 0 });
  });

  it('claims nothing in the replay guard for a forged signature, so forgeries cannot burn or fill it', async () => {
    // Prepare
    const { authenticator, counts } = subject();

    // Act
    const verdict = await authenticator.authenticate(signedRequest({ secret: 'x'.repeat(64) }));

    // Assess
    expect(verdict).toEqual({ accepted: false, reason: 'signature-mismatch' });
    expect(counts).toEqual({ secretReads: 1, claims: 0 });
  });

  it('holds a signature until its own timestamp leaves the window, not until now + tolerance', async () => {
    // Prepare
    const claims: number[] = [];
    const { authenticator } = subject(undefined, {
      claim: async (_key, expiresAt) => {
        claims.push(expiresAt);
        return true;
      },
    });

    // Act
    await authenticator.authenticate(signedRequest({ timestamp: NOW_SECONDS + 120 }));

    // Assess
    expect(claims).toEqual([NOW_MS + 120_000 + DEFAULT_TOLERANCE_SECONDS * 1000]);
  });

  it.each([
    ['no secret', [], /no webhook secret is configured/],
    ['an empty secret', [CURRENT_SECRET, ''], /webhook secret #2 is shorter than 32 characters/],
    ['a short secret', ['short'], /webhook secret #1 is shorter than 32 characters/],
  ])('throws rather than judging with %s', async (_name, secrets, message) => {
    // Prepare
    const { authenticator } = subject(secrets);

    // Act
    const judging = authenticator.authenticate(signedRequest());

    // Assess
    await expect(judging).rejects.toThrow(WebhookSecretError);
    await expect(judging).rejects.toThrow(message);
  });

  it('refuses a tolerance that is not a positive number of seconds', () => {
    // Act
    const make = (toleranceSeconds: number) => () =>
      createHmacAuthenticator({
        secrets: async () => [CURRENT_SECRET],
        replayGuard: createInMemoryReplayGuard({ clock: () => NOW_MS }),
        clock: () => NOW_MS,
        toleranceSeconds,
      });

    // Assess
    expect(make(0)).toThrow(RangeError);
    expect(make(Number.NaN)).toThrow(RangeError);
  });
});
