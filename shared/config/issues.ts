import type { z } from 'zod';

/** `fleets[0].target.region` style paths, the form the README's config reference uses. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    text += typeof part === 'number' ? `[${part}]` : text === '' ? String(part) : `.${String(part)}`;
  }
  return text === '' ? '(root)' : text;
}

/** One line per problem; an unknown key becomes its own line naming the key. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const problems: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push(`${formatPath([...issue.path, key])}: unknown key`);
      }
    } else {
      problems.push(`${formatPath(issue.path)}: ${issue.message}`);
    }
  }
  return problems;
}
