import { describe, expect, it } from 'vitest';
import { SecretValue } from '../../../shared/config/secret.ts';
import { TOKEN_CACHE_MS, TOKEN_MAX_STALE_MS, tokenReader } from '../../../shared/config/secret-cache.ts';

const STORE = { kind: 'gcp-secret-manager', name: 'projects/p/secrets/s/versions/latest' } as const;

function setup(answers: (() => Promise<string>)[]) {
  const time = { now: 1_000_000 };
  const secrets = new Set<string>();
  const stale: unknown[] = [];
  let reads = 0;
  const read = tokenReader(STORE, {
    clock: () => time.now,
    secrets,
    readStore: () => {
      const answer = answers[Math.min(reads, answers.length - 1)];
      reads += 1;
      return answer ? answer() : Promise.reject(new Error('no answer'));
    },
    onStale: (error) => stale.push(error),
  });
  return { read, time, secrets, stale, reads: () => reads };
}

describe('tokenReader', () => {
  it('returns a configured value as is and registers it for scrubbing', async () => {
    // Prepare
    const secrets = new Set<string>();
    const read = tokenReader(
      { kind: 'value', value: new SecretValue('sgp_value') },
      { clock: () => 0, secrets, readStore: () => Promise.reject(new Error('unused')) },
    );

    // Act / Assess
    expect(await read()).toBe('sgp_value');
    expect([...secrets]).toEqual(['sgp_value']);
  });

  it('reads the store once per cache period, trimmed', async () => {
    // Prepare
    const { read, time, reads } = setup([async () => 'sgp_one\n', async () => 'sgp_two']);

    // Act
    const first = await read();
    time.now += TOKEN_CACHE_MS - 1;
    const cached = await read();
    time.now += 2;
    const refreshed = await read();

    // Assess
    expect([first, cached, refreshed]).toEqual(['sgp_one', 'sgp_one', 'sgp_two']);
    expect(reads()).toBe(2);
  });

  it('keeps the cached token when a refresh fails, for a bounded time', async () => {
    // Prepare
    const { read, time, stale } = setup([async () => 'sgp_one', () => Promise.reject(new Error('store down'))]);
    await read();

    // Act
    time.now += TOKEN_CACHE_MS + 1;
    const kept = await read();
    time.now += TOKEN_MAX_STALE_MS;
    const expired = read();

    // Assess
    expect(kept).toBe('sgp_one');
    expect(stale).toHaveLength(1);
    await expect(expired).rejects.toThrow('store down');
  });

  it('fails when the store cannot be read and no token is in hand', async () => {
    // Prepare
    const { read } = setup([() => Promise.reject(new Error('denied'))]);

    // Act / Assess
    await expect(read()).rejects.toThrow('denied');
  });
});
