import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { SecretSourceError } from '../ports/errors.ts';
import { crc32c } from './crc32c.ts';
import { describeGoogleError, isTransientGoogleError } from './google-errors.ts';

/** A Secret Manager version could not be read; see `SecretSourceError` (the cause is the gax error). */
export class GcpSecretReadError extends SecretSourceError {
  override readonly name = 'GcpSecretReadError';
}

/** `fatal`: a payload that is not UTF-8 fails instead of reaching Sourcegraph with replacement characters. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The payload of `projects/<p>/secrets/<s>/versions/<v>` as UTF-8 text, checked against `dataCrc32c` when the
 * service sends one (it always does today; a corrupted token would otherwise fail later as an unexplained 401).
 */
export async function readSecretVersion(client: SecretManagerServiceClient, name: string): Promise<string> {
  const source = `secretmanager:${name}`;
  let data: Uint8Array | string | null | undefined;
  let checksum: unknown;
  try {
    const [version] = await client.accessSecretVersion({ name });
    data = version.payload?.data;
    checksum = version.payload?.dataCrc32c;
  } catch (error) {
    throw new GcpSecretReadError(source, `could not be read (${describeGoogleError(error)})`, {
      cause: error,
      retryable: isTransientGoogleError(error),
    });
  }
  const bytes = typeof data === 'string' ? Buffer.from(data, 'base64') : data;
  if (bytes === null || bytes === undefined || bytes.length === 0) {
    throw new GcpSecretReadError(source, 'has an empty payload');
  }
  const expected = checksumOf(checksum);
  if (expected !== undefined && expected !== crc32c(bytes)) {
    // Corruption in transit or storage: reading again may get an intact copy.
    throw new GcpSecretReadError(source, 'payload does not match its CRC32C checksum', { retryable: true });
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    // The TypeError is dropped on purpose: nothing of the payload may reach a log line.
    throw new GcpSecretReadError(source, 'payload is not UTF-8 text');
  }
  if (text.trim() === '') {
    throw new GcpSecretReadError(source, 'has a blank payload');
  }
  return text;
}

/** `dataCrc32c` is an int64: a string, a number or a Long, depending on the transport. Absent or 0-length: none. */
function checksumOf(value: unknown): number | undefined {
  if (value === null || value === undefined || value === '') {
    return undefined;
  }
  const parsed = Number(String(value));
  return Number.isSafeInteger(parsed) ? parsed : Number.NaN;
}
