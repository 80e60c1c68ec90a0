import { describe, expect, it } from 'vitest';
import { type Lockfile, lockfileSubset, parseLockfile, resolveIn } from '../../../scripts/lockfile-subset.ts';

const ROOT: Lockfile = {
  lockfileVersion: 3,
  packages: {
    '': { name: 'repo', dependencies: { a: '1.0.0', unrelated: '1.0.0' }, devDependencies: { tool: '1.0.0' } },
    'node_modules/a': { version: '1.0.0', integrity: 'sha-a', dependencies: { b: '^2', c: '^1' } },
    'node_modules/a/node_modules/b': { version: '2.0.0', integrity: 'sha-b2', dependencies: { c: '^1' } },
    'node_modules/b': { version: '1.0.0', integrity: 'sha-b1' },
    'node_modules/c': {
      version: '1.0.0',
      dev: true,
      optionalDependencies: { native: '1' },
      peerDependencies: { d: '1', e: '1' },
      peerDependenciesMeta: { e: { optional: true } },
    },
    'node_modules/d': { version: '1.0.0' },
    'node_modules/unrelated': { version: '1.0.0' },
    'node_modules/tool': { version: '1.0.0', dev: true },
  },
};

describe('resolveIn', () => {
  it('looks in the nearest node_modules first, then each enclosing one', () => {
    expect(resolveIn(ROOT.packages, 'node_modules/a', 'b')).toBe('node_modules/a/node_modules/b');
    expect(resolveIn(ROOT.packages, 'node_modules/a/node_modules/b', 'c')).toBe('node_modules/c');
    expect(resolveIn(ROOT.packages, '', 'b')).toBe('node_modules/b');
    expect(resolveIn(ROOT.packages, '', 'missing')).toBeUndefined();
  });
});

describe('lockfileSubset', () => {
  it('keeps exactly the packages the dependencies reach, at their paths, without dev flags', () => {
    // Act
    const subset = lockfileSubset(ROOT, { name: 'deployed', dependencies: { a: '1.0.0' } });

    // Assess
    expect(Object.keys(subset.packages)).toEqual([
      '',
      'node_modules/a',
      'node_modules/a/node_modules/b',
      'node_modules/c',
      'node_modules/d',
    ]);
    expect(subset.packages['']).toEqual({ name: 'deployed', dependencies: { a: '1.0.0' } });
    expect(subset.packages['node_modules/c']).not.toHaveProperty('dev');
    expect(subset.packages['node_modules/a']).toMatchObject({ version: '1.0.0', integrity: 'sha-a' });
  });

  it('refuses a dependency the lockfile does not hold', () => {
    expect(() => lockfileSubset(ROOT, { name: 'deployed', dependencies: { nope: '1.0.0' } })).toThrow(
      /nope \(needed by the package\) is not in the lockfile/,
    );
  });

  it('reads only v2/v3 lockfiles', () => {
    expect(() => parseLockfile('{"lockfileVersion": 1, "dependencies": {}}')).toThrow(/v2\/v3/);
    expect(parseLockfile(JSON.stringify(ROOT)).packages['node_modules/a']).toMatchObject({ version: '1.0.0' });
  });
});
