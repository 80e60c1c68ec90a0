import { DescribeInstancesCommand, type EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { chunk } from '../domain/chunk.ts';
import { CloudApiError } from '../ports/errors.ts';
import { awsErrorName, describeAwsError, isTransientAwsError } from './aws-errors.ts';

/** Instance ids per DescribeInstances request (the limit the EC2 API reference gives for explicit ids). */
export const MAX_IDS_PER_DESCRIBE_INSTANCES = 1000;
/** Upper bound on NextToken pages per request, so a misbehaving endpoint cannot keep a cycle looping. */
const MAX_PAGES = 100;
/**
 * Requests per batch when EC2 names ids it does not know: EC2 is eventually consistent, so an instance Auto Scaling
 * just launched can be unknown to DescribeInstances for a moment, and one unknown id fails the whole request.
 */
const MAX_ATTEMPTS_PER_BATCH = 3;
/** Codes with which EC2 refuses a whole DescribeInstances for some of its ids, naming them in the message. */
const UNKNOWN_ID_CODES: ReadonlySet<string> = new Set(['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed']);

/** What EC2 says about an instance beyond what Auto Scaling says. */
export interface InstanceDetails {
  /** The private DNS name's first label (`ip-10-0-1-2`): the VM's host name, which its executor name starts with. */
  readonly hostname?: string;
  /** Epoch milliseconds. */
  readonly launchedAt?: number;
}

/**
 * EC2's details for `instanceIds`, from as few DescribeInstances requests as the API allows. Instances EC2 does not
 * know (yet) are absent from the answer rather than failing it; any other failure throws `CloudApiError`.
 */
export async function describeInstanceDetails(
  client: EC2Client,
  instanceIds: readonly string[],
  signal?: AbortSignal,
): Promise<ReadonlyMap<string, InstanceDetails>> {
  const details = new Map<string, InstanceDetails>();
  for (const batch of chunk([...new Set(instanceIds)], MAX_IDS_PER_DESCRIBE_INSTANCES)) {
    let ids = batch;
    for (let attempt = 1; ids.length > 0; attempt++) {
      try {
        for (const instance of await describeAll(client, ids, signal)) {
          if (instance.InstanceId !== undefined) {
            details.set(instance.InstanceId, detailsOf(instance));
          }
        }
        break;
      } catch (error) {
        const unknown = unknownIdsIn(error, ids);
        if (unknown.size === 0 || attempt >= MAX_ATTEMPTS_PER_BATCH) {
          throw new CloudApiError('DescribeInstances', describeAwsError(error), {
            cause: error,
            retryable: isTransientAwsError(error),
          });
        }
        ids = ids.filter((id) => !unknown.has(id));
      }
    }
  }
  return details;
}

async function describeAll(client: EC2Client, ids: readonly string[], signal?: AbortSignal): Promise<Instance[]> {
  const instances: Instance[] = [];
  let token: string | undefined;
  for (let page = 0; page === 0 || token !== undefined; page++) {
    if (page >= MAX_PAGES) {
      throw new CloudApiError('DescribeInstances', `still paging after ${MAX_PAGES} pages`, { retryable: true });
    }
    // Checked here too: the SDK looks at the signal only inside its HTTP handler.
    signal?.throwIfAborted();
    const output = await client.send(new DescribeInstancesCommand({ InstanceIds: [...ids], NextToken: token }), {
      abortSignal: signal,
    });
    for (const reservation of output.Reservations ?? []) {
      instances.push(...(reservation.Instances ?? []));
    }
    token = output.NextToken === '' ? undefined : output.NextToken;
  }
  return instances;
}

/**
 * The requested ids EC2 names as unknown or malformed ("The instance IDs 'i-1, i-2' do not exist"). Matched as whole
 * tokens, so `i-0` is not taken for `i-0a1`.
 */
function unknownIdsIn(error: unknown, requested: readonly string[]): ReadonlySet<string> {
  if (!(error instanceof Error) || !UNKNOWN_ID_CODES.has(awsErrorName(error) ?? '')) {
    return new Set();
  }
  const named = new Set(error.message.match(/i-[0-9A-Za-z]+/g) ?? []);
  return new Set(requested.filter((id) => named.has(id)));
}

function detailsOf(instance: Instance): InstanceDetails {
  const hostname = hostnameOf(instance.PrivateDnsName);
  const launchedAt = instance.LaunchTime?.getTime();
  return {
    ...(hostname === undefined ? {} : { hostname }),
    ...(launchedAt === undefined || Number.isNaN(launchedAt) ? {} : { launchedAt }),
  };
}

/**
 * `ip-10-0-1-2` from `ip-10-0-1-2.ec2.internal` (us-east-1) or `ip-10-0-1-2.us-west-2.compute.internal`. EC2 sends an
 * empty name for an instance without a private address (e.g. terminated): no host name then.
 */
export function hostnameOf(privateDnsName: string | undefined): string | undefined {
  const label = privateDnsName?.split('.')[0]?.trim();
  return label === undefined || label === '' ? undefined : label;
}
