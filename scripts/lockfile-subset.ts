import * as z from 'zod';

/**
 * The part of the repository's package-lock.json one deployed package needs: the packages its dependencies resolve
 * to, transitively, at the paths and versions the tests ran with. Shipped as that package's own lockfile, it makes the
 * cloud's install (`npm ci`) reproduce exactly what was tested instead of whatever is newest that day.
 */

export interface LockEntry {
  readonly version?: string;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly peerDependenciesMeta?: Readonly<Record<string, { readonly optional?: boolean }>>;
  readonly [key: string]: unknown;
}

export interface Lockfile {
  readonly lockfileVersion: number;
  readonly packages: Readonly<Record<string, LockEntry>>;
  readonly [key: string]: unknown;
}

const lockfileSchema = z.looseObject({
  lockfileVersion: z.number().int(),
  packages: z.record(z.string(), z.looseObject({})),
});

/** A package-lock.json (v2 or v3, the ones with a `packages` map), read without trusting its shape. */
export function parseLockfile(text: string): Lockfile {
  const parsed = lockfileSchema.safeParse(JSON.parse(text));
  if (!parsed.success || parsed.data.lockfileVersion < 2) {
    throw new Error('package-lock.json is not a v2/v3 lockfile with a packages map');
  }
  return parsed.data;
}

/** Node's lookup: `<from>/node_modules/<name>`, then each enclosing `node_modules`, up to the top. */
export function resolveIn(
  packages: Readonly<Record<string, LockEntry>>,
  from: string,
  name: string,
): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (packages[candidate] !== undefined) {
      return candidate;
    }
    if (base === '') {
      return undefined;
    }
    const cut = base.lastIndexOf('/node_modules/');
    base = cut === -1 ? '' : base.slice(0, cut);
  }
}

/** Dependencies npm installs for an entry: regular, optional (when present), and non-optional peers. */
function wanted(entry: LockEntry): { readonly name: string; readonly optional: boolean }[] {
  const optionalPeer = (name: string) => entry.peerDependenciesMeta?.[name]?.optional === true;
  return [
    ...Object.keys(entry.dependencies ?? {}).map((name) => ({ name, optional: false })),
    ...Object.keys(entry.optionalDependencies ?? {}).map((name) => ({ name, optional: true })),
    ...Object.keys(entry.peerDependencies ?? {}).map((name) => ({ name, optional: optionalPeer(name) })),
  ];
}

export function lockfileSubset(
  root: Lockfile,
  manifest: { readonly name: string; readonly dependencies: Readonly<Record<string, string>> },
): Lockfile {
  const kept = new Map<string, LockEntry>();
  const queue: { from: string; name: string; optional: boolean }[] = Object.keys(manifest.dependencies).map((name) => ({
    from: '',
    name,
    optional: false,
  }));
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const path = resolveIn(root.packages, next.from, next.name);
    if (path === undefined) {
      if (!next.optional) {
        throw new Error(`${next.name} (needed by ${next.from || 'the package'}) is not in the lockfile`);
      }
      continue;
    }
    if (kept.has(path)) {
      continue;
    }
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = root.packages[path] ?? {};
    kept.set(path, entry);
    queue.push(...wanted(entry).map((dependency) => ({ from: path, ...dependency })));
  }
  const packages = Object.fromEntries([...kept].sort(([a], [b]) => a.localeCompare(b)));
  return {
    name: manifest.name,
    lockfileVersion: 3,
    requires: true,
    packages: { '': { name: manifest.name, dependencies: manifest.dependencies }, ...packages },
  };
}
