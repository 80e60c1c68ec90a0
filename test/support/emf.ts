import { vi } from 'vitest';

/** One CloudWatch embedded-metric-format document as Powertools prints it. */
export interface EmfDocument {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { readonly Name: string; readonly Unit: string }[];
    }[];
  };
  readonly [key: string]: unknown;
}

/**
 * Captures what is written to stdout until `vi.restoreAllMocks()`: Powertools prints EMF through its own Console over
 * process.stdout, so the stream is what to capture.
 */
export function captureStdout(): string[] {
  const written: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  return written;
}

/** The EMF documents among captured output, one per non-empty line. */
export function emfDocuments(written: readonly string[]): EmfDocument[] {
  return written
    .join('')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EmfDocument);
}

/** Every metric value as `name{dim=value,...} = value unit`, for one readable assertion. */
export function flattenEmf(docs: readonly EmfDocument[]): string[] {
  return docs.flatMap((doc) =>
    doc._aws.CloudWatchMetrics.flatMap(({ Dimensions, Metrics }) =>
      Metrics.map(({ Name, Unit }) => {
        const dims = (Dimensions[0] ?? []).map((name) => `${name}=${String(doc[name])}`).join(',');
        return `${Name}{${dims}} = ${String(doc[Name])} ${Unit}`;
      }),
    ),
  );
}
