import { beforeEach, describe, expect, it } from 'vitest';
import { type GroupTarget, targetKey } from '../../shared/domain/fleet.ts';
import { CloudApiError } from '../../shared/ports/errors.ts';
import type {
  GroupDescription,
  GroupSnapshot,
  InstanceGroups,
  InstanceLifecycle,
} from '../../shared/ports/instance-groups.ts';

export interface ContractInstance {
  readonly id: string;
  readonly lifecycle: InstanceLifecycle;
  /** The VM's host name where the cloud has one apart from the id (EC2's private DNS name's first label). */
  readonly hostname?: string;
  /** Epoch milliseconds. */
  readonly launchedAt?: number;
}

/** A group as the contract seeds it: cloud-neutral, each subject translates it into its backend's own terms. */
export interface ContractGroup {
  readonly target: GroupTarget;
  readonly desired: number;
  readonly min: number;
  readonly max: number;
  readonly instances?: readonly ContractInstance[];
  /** Names of scaling policies (or another autoscaler) attached to the group. */
  readonly scalingPolicies?: readonly string[];
}

export interface InstanceGroupsSubject {
  readonly groups: InstanceGroups;
  seed(...groups: readonly ContractGroup[]): void;
  /** The backend's desired size, read around the port. */
  desiredOf(target: GroupTarget): number | undefined;
  /** The next `times` resizes of `target` meet a scaling activity in progress. */
  holdScaling(target: GroupTarget, times: number): void;
  /** The host name the cloud reports for a seeded instance (on GCE, the instance name is the host name). */
  hostnameOf(instance: ContractInstance): string;
  /** Instances the backend protects from its own scale-in; undefined where the cloud has no such setting. */
  protectedOf(target: GroupTarget): readonly string[] | undefined;
  /** The instances the backend still holds, read around the port. */
  instancesOf(target: GroupTarget): readonly string[];
}

/** Two groups in different locations, and one that does not exist. */
export interface ContractTargets {
  readonly west: GroupTarget;
  readonly east: GroupTarget;
  readonly ghost: GroupTarget;
}

export const AWS_CONTRACT_TARGETS: ContractTargets = {
  west: { cloud: 'aws', region: 'us-west-2', autoScalingGroup: 'executors-codeintel' },
  east: { cloud: 'aws', region: 'eu-west-1', autoScalingGroup: 'executors-batches' },
  ghost: { cloud: 'aws', region: 'us-west-2', autoScalingGroup: 'no-such-group' },
};

export const GCP_CONTRACT_TARGETS: ContractTargets = {
  west: { cloud: 'gcp', project: 'p1', zone: 'us-west1-a', instanceGroupManager: 'executors-codeintel' },
  east: { cloud: 'gcp', project: 'p1', region: 'europe-west1', instanceGroupManager: 'executors-batches' },
  ghost: { cloud: 'gcp', project: 'p1', zone: 'us-west1-a', instanceGroupManager: 'no-such-group' },
};

/** What every InstanceGroups adapter and the in-memory fake must do alike (style.md #12). */
export function defineInstanceGroupsContract(
  name: string,
  makeSubject: () => InstanceGroupsSubject,
  targets: ContractTargets = AWS_CONTRACT_TARGETS,
): void {
  const { west: WEST, east: EAST, ghost: GHOST } = targets;
  describe(`InstanceGroups contract: ${name}`, () => {
    let subject: InstanceGroupsSubject;
    beforeEach(() => {
      subject = makeSubject();
      subject.seed({ target: WEST, desired: 2, min: 1, max: 5 }, { target: EAST, desired: 0, min: 0, max: 3 });
    });

    it('describes known and unknown groups across regions in one call, keyed by targetKey', async () => {
      // Act
      const described = await subject.groups.describe([WEST, EAST, GHOST]);

      // Assess
      expect([...described.keys()].sort()).toEqual([targetKey(WEST), targetKey(EAST), targetKey(GHOST)].sort());
      expect(described.get(targetKey(WEST))).toMatchObject({ found: true, snapshot: { desired: 2, min: 1, max: 5 } });
      expect(described.get(targetKey(EAST))).toMatchObject({ found: true, snapshot: { desired: 0, min: 0, max: 3 } });
      expect(described.get(targetKey(GHOST))).toEqual({ found: false, reason: expect.any(String) });
    });

    it('describes nothing when asked about nothing', async () => {
      // Act
      const described = await subject.groups.describe([]);

      // Assess
      expect(described.size).toBe(0);
    });

    it('reports each instance with its lifecycle and the cloud state name', async () => {
      // Prepare
      // Only a MIG keeps a VM that powered itself off; EC2 terminates it, so an ASG never reports one.
      const lifecycles: readonly InstanceLifecycle[] = [
        'booting',
        'in-service',
        'leaving',
        'standby',
        ...(WEST.cloud === 'gcp' ? (['exited'] as const) : []),
      ];
      const instances = lifecycles.map((lifecycle, index) => ({ id: `i-${index}`, lifecycle }));
      subject.seed({ target: WEST, desired: lifecycles.length, min: 0, max: 5, instances });

      // Act
      const described = await subject.groups.describe([WEST]);

      // Assess
      const snapshot = found(described.get(targetKey(WEST)));
      const reported = [...snapshot.instances].sort((a, b) => a.id.localeCompare(b.id));
      expect(reported.map(({ id, lifecycle }) => ({ id, lifecycle }))).toEqual(instances);
      expect(reported.every((instance) => instance.state.length > 0)).toBe(true);
    });

    it("reports each instance's host name and launch time", async () => {
      // Prepare
      const instances: ContractInstance[] = [
        { id: 'i-0a1', lifecycle: 'in-service', hostname: 'ip-10-0-0-1', launchedAt: Date.UTC(2026, 10, 1, 8) },
        { id: 'i-0b2', lifecycle: 'booting', hostname: 'ip-10-0-0-2', launchedAt: Date.UTC(2026, 10, 1, 9, 30) },
      ];
      subject.seed({ target: WEST, desired: 2, min: 0, max: 5, instances });

      // Act
      const described = await subject.groups.describe([WEST]);

      // Assess
      const reported = [...found(described.get(targetKey(WEST))).instances].sort((a, b) => a.id.localeCompare(b.id));
      expect(reported.map(({ id, hostname, launchedAt }) => ({ id, hostname, launchedAt }))).toEqual(
        instances.map((instance) => ({
          id: instance.id,
          hostname: subject.hostnameOf(instance),
          launchedAt: instance.launchedAt,
        })),
      );
    });

    it('reports attached scaling policies as competing scalers, and none where there are none', async () => {
      // Prepare
      subject.seed({ target: WEST, desired: 2, min: 1, max: 5, scalingPolicies: ['queue-scale-out'] });

      // Act
      const described = await subject.groups.describe([WEST, EAST]);

      // Assess
      const west = found(described.get(targetKey(WEST)));
      expect(west.competingScalers).toHaveLength(1);
      expect(west.competingScalers[0]).toContain('queue-scale-out');
      expect(found(described.get(targetKey(EAST))).competingScalers).toEqual([]);
    });

    it('changes the desired size, as a later describe shows', async () => {
      // Act
      const outcome = await subject.groups.setDesiredSize(WEST, 5);
      const described = await subject.groups.describe([WEST]);

      // Assess
      expect(outcome).toEqual({ applied: true });
      expect(subject.desiredOf(WEST)).toBe(5);
      expect(found(described.get(targetKey(WEST))).desired).toBe(5);
    });

    it('accepts the size the group already has', async () => {
      // Act
      const outcome = await subject.groups.setDesiredSize(WEST, 2);

      // Assess
      expect(outcome).toEqual({ applied: true });
      expect(subject.desiredOf(WEST)).toBe(2);
    });

    it.each([
      ['above the maximum', 6],
      ['below the minimum', 0],
      ['fractional', 2.5],
    ])('refuses a size %s and keeps the old size', async (_, size) => {
      // Act
      const resize = subject.groups.setDesiredSize(WEST, size);

      // Assess
      await expect(resize).rejects.toBeInstanceOf(CloudApiError);
      await expect(resize).rejects.toMatchObject({ retryable: false });
      expect(subject.desiredOf(WEST)).toBe(2);
    });

    it('refuses to resize a group that does not exist', async () => {
      // Act
      const resize = subject.groups.setDesiredSize(GHOST, 1);

      // Assess
      await expect(resize).rejects.toBeInstanceOf(CloudApiError);
    });

    it('removes exactly the instances named, lowering the desired size by as many', async () => {
      // Prepare
      const instances = ['i-0a1', 'i-0b2', 'i-0c3'].map((id): ContractInstance => ({ id, lifecycle: 'in-service' }));
      subject.seed({ target: WEST, desired: 3, min: 0, max: 5, instances });

      // Act
      const outcomes = await subject.groups.removeInstances(WEST, ['i-0a1', 'i-0c3']);

      // Assess
      expect(Object.fromEntries(outcomes)).toEqual({ 'i-0a1': { removed: true }, 'i-0c3': { removed: true } });
      expect(subject.desiredOf(WEST)).toBe(1);
      expect(subject.instancesOf(WEST)).toEqual(['i-0b2']);
    });

    it('answers per instance: one not in the group, or one below the minimum, is refused and the others removed', async () => {
      // Prepare
      const instances = ['i-0a1', 'i-0b2', 'i-0c3'].map((id): ContractInstance => ({ id, lifecycle: 'in-service' }));
      subject.seed({ target: WEST, desired: 3, min: 2, max: 5, instances });

      // Act
      const outcomes = await subject.groups.removeInstances(WEST, ['i-nope', 'i-0a1', 'i-0b2']);

      // Assess
      expect(outcomes.get('i-nope')).toEqual({ removed: false, reason: expect.any(String), retryable: false });
      expect(outcomes.get('i-0a1')).toEqual({ removed: true });
      expect(outcomes.get('i-0b2')).toMatchObject({ removed: false });
      expect(subject.desiredOf(WEST)).toBe(2);
      expect([...subject.instancesOf(WEST)].sort()).toEqual(['i-0b2', 'i-0c3']);
    });

    it('refuses to remove instances from a group that does not exist', async () => {
      // Act
      const removal = subject.groups.removeInstances(GHOST, ['i-0a1']);

      // Assess
      await expect(removal).rejects.toBeInstanceOf(CloudApiError);
    });

    it('replaces exactly the instances named, keeping the desired size', async () => {
      // Prepare
      const instances = ['i-0a1', 'i-0b2'].map((id): ContractInstance => ({ id, lifecycle: 'in-service' }));
      subject.seed({ target: WEST, desired: 2, min: 0, max: 5, instances });

      // Act
      const outcomes = await subject.groups.replaceInstances(WEST, ['i-0a1', 'i-nope']);

      // Assess
      expect(outcomes.get('i-0a1')).toEqual({ replaced: true });
      expect(outcomes.get('i-nope')).toEqual({ replaced: false, reason: expect.any(String), retryable: false });
      expect(subject.desiredOf(WEST)).toBe(2);
      expect(subject.instancesOf(WEST)).toContain('i-0b2');
    });

    it('refuses to replace instances in a group that does not exist', async () => {
      // Act
      const replacement = subject.groups.replaceInstances(GHOST, ['i-0a1']);

      // Assess
      await expect(replacement).rejects.toBeInstanceOf(CloudApiError);
    });

    it('touches only instances still exited when asked to, and refuses the others', async () => {
      // Prepare: on a MIG a stopped VM stays a member; an ASG never keeps one, so there only the refusal shows
      const exited = WEST.cloud === 'gcp' ? ['i-0c3', 'i-0d4'] : [];
      const instances: ContractInstance[] = [
        { id: 'i-0a1', lifecycle: 'in-service' },
        { id: 'i-0b2', lifecycle: 'in-service' },
        ...exited.map((id): ContractInstance => ({ id, lifecycle: 'exited' })),
      ];
      subject.seed({ target: WEST, desired: instances.length, min: 0, max: 5, instances });

      // Act
      const removed = await subject.groups.removeInstances(WEST, ['i-0a1', ...exited.slice(0, 1)], {
        onlyExited: true,
      });
      const replaced = await subject.groups.replaceInstances(WEST, ['i-0b2', ...exited.slice(1)], { onlyExited: true });

      // Assess
      expect(removed.get('i-0a1')).toEqual({ removed: false, reason: expect.any(String), retryable: false });
      expect(replaced.get('i-0b2')).toEqual({ replaced: false, reason: expect.any(String), retryable: false });
      for (const id of exited.slice(0, 1)) {
        expect(removed.get(id)).toEqual({ removed: true });
      }
      for (const id of exited.slice(1)) {
        expect(replaced.get(id)).toEqual({ replaced: true });
      }
      expect(subject.desiredOf(WEST)).toBe(instances.length - exited.slice(0, 1).length);
      expect(subject.instancesOf(WEST)).toEqual(expect.arrayContaining(['i-0a1', 'i-0b2']));
    });

    it("protects instances from the cloud's own scale-in where the cloud has such a setting", async () => {
      // Prepare
      const instances = ['i-0a1', 'i-0b2'].map((id): ContractInstance => ({ id, lifecycle: 'in-service' }));
      subject.seed({ target: WEST, desired: 2, min: 0, max: 5, instances });

      // Act
      await subject.groups.protectFromScaleIn(WEST, ['i-0a1', 'i-0b2']);

      // Assess
      const protectedInstances = subject.protectedOf(WEST);
      const described = found((await subject.groups.describe([WEST])).get(targetKey(WEST)));
      if (protectedInstances !== undefined) {
        expect([...protectedInstances].sort()).toEqual(['i-0a1', 'i-0b2']);
        expect(described.instances.map((instance) => instance.protectedFromScaleIn)).toEqual([true, true]);
      } else {
        expect(described.instances.map((instance) => instance.protectedFromScaleIn)).toEqual([undefined, undefined]);
      }
      expect(subject.desiredOf(WEST)).toBe(2);
    });

    it('defers a resize while a scaling activity is in progress, and applies the next one', async () => {
      // Prepare
      subject.holdScaling(WEST, 1);

      // Act
      const first = await subject.groups.setDesiredSize(WEST, 4);
      const sizeAfterFirst = subject.desiredOf(WEST);
      const second = await subject.groups.setDesiredSize(WEST, 4);

      // Assess
      expect(first).toEqual({ applied: false, deferred: expect.any(String) });
      expect(sizeAfterFirst).toBe(2);
      expect(second).toEqual({ applied: true });
      expect(subject.desiredOf(WEST)).toBe(4);
    });
  });
}

function found(description: GroupDescription | undefined): GroupSnapshot {
  if (description === undefined || !description.found) {
    throw new Error(`expected a found group, got ${JSON.stringify(description)}`);
  }
  return description.snapshot;
}

/** The AWS side of a contract target: AWS subjects are only ever given AWS targets. */
export function awsTarget(target: GroupTarget): Extract<GroupTarget, { cloud: 'aws' }> {
  if (target.cloud !== 'aws') {
    throw new TypeError(`an AWS subject was given ${targetKey(target)}`);
  }
  return target;
}
