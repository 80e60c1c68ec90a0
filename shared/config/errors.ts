/** Every problem with the configuration at once, each naming its key; secret values never appear. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[], options: { cause?: unknown } = {}) {
    super(`invalid fleetplane configuration (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`, options);
    this.problems = problems;
  }
}
