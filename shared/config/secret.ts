import { inspect } from 'node:util';

/**
 * A secret that cannot leak by accident: JSON, `String()`, template literals and `console.log` all print
 * `[redacted]`; only `reveal()` gives the value, at the one place that sends it.
 */
export class SecretValue {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return '[redacted]';
  }

  toString(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return '[redacted]';
  }
}

/** Where the Sourcegraph token comes from: the value itself, or a secret store (re-read every few minutes). */
export type SecretSource =
  | { readonly kind: 'value'; readonly value: SecretValue }
  | { readonly kind: 'aws-secrets-manager'; readonly secretId: string; readonly jsonKey?: string }
  /** `projects/<p>/secrets/<s>/versions/<v>`. */
  | { readonly kind: 'gcp-secret-manager'; readonly name: string };
