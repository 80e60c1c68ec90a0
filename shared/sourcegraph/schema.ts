import { readFileSync } from 'node:fs';

/**
 * Our SDL subset of Sourcegraph's schema. Read by tests and the local emulator only: the Lambda bundle does not ship
 * the `.graphql` file, so runtime code must not import this module (index.ts does not re-export it).
 */
export const SCHEMA_SDL_URL = new URL('./schema.graphql', import.meta.url);

export function loadSchemaSdl(): string {
  return readFileSync(SCHEMA_SDL_URL, 'utf8');
}
