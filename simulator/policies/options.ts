import * as z from 'zod';

/** A model's options that cannot work (a zero poll interval would loop forever at one instant): every one named. */
export class PolicyOptionsError extends Error {
  override readonly name = 'PolicyOptionsError';
}

export const seconds = z.number().finite().nonnegative();
export const positiveSeconds = z.number().finite().positive();

/** The defaults with `overrides` applied, checked against `schema`. */
export function modelOptions<T extends object>(
  model: string,
  schema: z.ZodType<T>,
  defaults: T,
  overrides: Partial<T>,
): T {
  const parsed = schema.safeParse({ ...defaults, ...overrides });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(options)'}: ${issue.message}`);
    throw new PolicyOptionsError(`invalid ${model} options: ${problems.join('; ')}`);
  }
  return Object.freeze(parsed.data);
}
