/** Characters of a response body quoted in an error: enough to recognise it, too few to carry a page. */
const EXCERPT_CHARS = 200;

/** A response body for an error message: whitespace folded, `scrub`bed of secrets, quoted and cut short. */
export function excerpt(text: string, scrub: (text: string) => string = (same) => same): string {
  const flat = scrub(text).replace(/\s+/g, ' ').trim();
  if (flat === '') {
    return '(empty body)';
  }
  return JSON.stringify(flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat);
}

/** A fetch failure for an error message: its name (unless plain `Error`), message, and its cause's message. */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) {
    return String(error);
  }
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}${cause}`;
}
