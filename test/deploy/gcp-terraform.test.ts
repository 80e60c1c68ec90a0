/**
 * Checks on infra/gcp without terraform (which cannot be installed here): the hclwrite format check, then structure
 * checks on the configuration text (blocks found by test/deploy/hcl-blocks.ts). The rotate functions have their own
 * file, gcp-rotate-terraform.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../shared/config/index.ts';
import {
  attribute,
  type Block,
  blocksIn,
  child,
  finder,
  iamGrants as grantsIn,
  INFRA,
  REPO_ROOT,
  readInfra,
} from './hcl-blocks.ts';

const run = promisify(execFile);
const FORMAT_SCRIPT = join(REPO_ROOT, 'scripts', 'hcl-format.ts');
/** Loading the WebAssembly formatter takes about a second; a loaded CI runner many times that. */
const FORMAT_TIMEOUT_MS = 60_000;

let blocks: Block[];
let allText: string;
let top: ReturnType<typeof finder>;

function variableDefault(name: string): string | undefined {
  return attribute(top('variable', name).body, 'default');
}

/** Every IAM grant (member, binding or policy resource) and who it is for. */
function iamGrants(): Block[] {
  return grantsIn(blocks);
}

beforeAll(async () => {
  // Prepare: every .tf file, in one list of blocks.
  ({ blocks, allText } = await readInfra());
  top = finder(blocks);
});

describe('hcl-format', () => {
  it('finds infra/gcp formatted as terraform fmt formats it', async () => {
    // Act: rejects (non-zero exit) if any file is unformatted.
    const { stdout } = await run(process.execPath, [FORMAT_SCRIPT, '--check', INFRA], {
      cwd: REPO_ROOT,
      timeout: FORMAT_TIMEOUT_MS,
    });

    // Assess
    expect(stdout).toBe('');
  });

  it('lists an unformatted file, exits 1, and --write fixes it', async () => {
    // Prepare
    const directory = await mkdtemp(join(tmpdir(), 'fleetplane-hcl-'));
    const file = join(directory, 'bad.tf');
    await writeFile(file, 'resource "x" "y" {\n  a=1\n  longer = 2\n}\n');

    try {
      // Act
      const check = await run(process.execPath, [FORMAT_SCRIPT, '--check', directory], {
        timeout: FORMAT_TIMEOUT_MS,
      }).then(
        () => ({ code: 0, stdout: '' }),
        (error: { code?: number; stdout?: string }) => ({ code: error.code, stdout: error.stdout ?? '' }),
      );
      await run(process.execPath, [FORMAT_SCRIPT, '--write', directory], { timeout: FORMAT_TIMEOUT_MS });

      // Assess
      expect(check.code).toBe(1);
      expect(check.stdout).toContain('bad.tf');
      expect(await readFile(file, 'utf8')).toBe('resource "x" "y" {\n  a      = 1\n  longer = 2\n}\n');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('infra/gcp', () => {
  it('pins the google, google-beta and archive providers to a range', () => {
    // Act
    const providers = child(top('terraform'), 'required_providers').body;

    // Assess
    expect(providers).toMatch(/google = \{\s*source\s*= "hashicorp\/google"\s*version = ">= 6\.13, < 8\.0"/);
    expect(providers).toMatch(/google-beta = \{\s*source\s*= "hashicorp\/google-beta"\s*version = ">= 6\.13, < 8\.0"/);
    expect(providers).toMatch(/archive = \{\s*source\s*= "hashicorp\/archive"\s*version = ">= [\d.]+, < \d+\.0"/);
  });

  it('deploys a 2nd gen function on nodejs22 with entry point scale, one instance at most, 60 s', () => {
    // Act
    const fn = top('resource', 'google_cloudfunctions2_function', 'scale');
    const build = child(fn, 'build_config');
    const service = child(fn, 'service_config');

    // Assess
    expect(attribute(build.body, 'runtime')).toBe('"nodejs22"');
    expect(attribute(build.body, 'entry_point')).toBe('"scale"');
    expect(attribute(service.body, 'max_instance_count')).toBe('1');
    expect(attribute(service.body, 'max_instance_request_concurrency')).toBe('1');
    expect(attribute(service.body, 'min_instance_count')).toBe('0');
    expect(attribute(service.body, 'timeout_seconds')).toBe('local.timeout_seconds');
    const mainLocals = blocks.find((block) => block.file === 'main.tf' && block.type === 'locals')?.body ?? '';
    expect(attribute(mainLocals, 'timeout_seconds')).toBe('60');
    expect(attribute(service.body, 'available_memory')).toBe('var.memory');
    expect(variableDefault('memory')).toBe('"256Mi"');
    expect(attribute(service.body, 'service_account_email')).toBe('google_service_account.runtime.email');
    expect(variableDefault('ingress_settings')).toBe('"ALLOW_INTERNAL_ONLY"');
  });

  it('passes the config and the token only through secret_environment_variables', () => {
    // Act
    const service = child(top('resource', 'google_cloudfunctions2_function', 'scale'), 'service_config');
    const configSecret = child(service, 'secret_environment_variables');
    const tokenSecret = child(child(service, 'dynamic', 'secret_environment_variables'), 'content');
    const plainEnvironment = /environment_variables = merge\(([\s\S]*?)\n {4}\)/.exec(service.body)?.[1] ?? '';

    // Assess
    expect(attribute(configSecret.body, 'key')).toBe('"FLEETPLANE_CONFIG"');
    expect(attribute(configSecret.body, 'version')).toBe('google_secret_manager_secret_version.config.version');
    expect(attribute(tokenSecret.body, 'key')).toBe('"SRC_ACCESS_TOKEN"');
    expect(plainEnvironment).toContain('FLEETPLANE_TIMEOUT_SECONDS');
    expect(plainEnvironment).not.toMatch(/TOKEN|FLEETPLANE_CONFIG\b|SRC_/);
  });

  it('has no variable that could carry a plaintext token', () => {
    // Act
    const variables = blocks.filter((block) => block.type === 'variable').map((block) => block.labels[0] ?? '');

    // Assess: the token variables name a secret, default to none, and the document may not hold a token.
    expect(variables.filter((name) => /token/i.test(name))).toEqual([
      'sourcegraph_token_secret',
      'sourcegraph_token_secret_version',
    ]);
    expect(variableDefault('sourcegraph_token_secret')).toBe('null');
    expect(top('variable', 'config_document').body).toContain(
      '!can(yamldecode(var.config_document).sourcegraph.token)',
    );
  });

  it('zips dist/gcp as the build wrote it (bundle and pinned package.json), without maps, metafiles, rotate.js or health.js', () => {
    // Act
    const archive = top('data', 'archive_file', 'source');

    // Assess: rotate.js and health.js ship in archives of their own (gcp-rotate-terraform.test.ts,
    // gcp-health-terraform.test.ts).
    expect(attribute(archive.body, 'source_dir')).toBe('local.bundle_dir');
    expect(attribute(archive.body, 'excludes')).toBe(
      '["health.js", "health.js.map", "health.meta.json", "rotate.js", "rotate.js.map", "rotate.meta.json", "scale.js.map", "scale.meta.json"]',
    );
    expect(blocksIn(archive.body).filter((block) => block.type === 'source')).toEqual([]);
  });

  it('ticks every minute over HTTP with an OIDC token, no retries, a deadline of at least 90 s', () => {
    // Act
    const job = top('resource', 'google_cloud_scheduler_job', 'scale');
    const target = child(job, 'http_target');
    const oidc = child(target, 'oidc_token');
    const deadline = Number(/^"(\d+)s"$/.exec(attribute(job.body, 'attempt_deadline') ?? '')?.[1]);

    // Assess
    expect(attribute(job.body, 'schedule')).toBe('var.schedule');
    expect(variableDefault('schedule')).toBe('"* * * * *"');
    expect(attribute(child(job, 'retry_config').body, 'retry_count')).toBe('0');
    expect(deadline).toBeGreaterThanOrEqual(90);
    expect(attribute(target.body, 'uri')).toBe('google_cloudfunctions2_function.scale.service_config[0].uri');
    expect(attribute(oidc.body, 'service_account_email')).toBe('google_service_account.invoker.email');
    expect(attribute(oidc.body, 'audience')).toBe('google_cloudfunctions2_function.scale.service_config[0].uri');
  });

  it("grants the invoker only roles/run.invoker, only on the function's Cloud Run service", () => {
    // Act
    const invokerGrants = iamGrants().filter((grant) => grant.body.includes('google_service_account.invoker.email'));

    // Assess
    expect(invokerGrants.map((grant) => grant.labels[0])).toEqual(['google_cloud_run_service_iam_member']);
    expect(attribute(invokerGrants[0]?.body ?? '', 'role')).toBe('"roles/run.invoker"');
    expect(attribute(invokerGrants[0]?.body ?? '', 'service')).toBe(
      'google_cloudfunctions2_function.scale.service_config[0].service',
    );
  });

  it('gives the runtime service account exactly the intended permissions and no broad role', () => {
    // Prepare
    const runtimeGrants = iamGrants().filter((grant) => grant.body.includes('local.runtime_member'));
    const customRoles = blocks.filter(
      (block) => block.type === 'resource' && block.labels[0] === 'google_project_iam_custom_role',
    );
    const permissionsOf = (role: Block) =>
      [...role.body.matchAll(/"((?:compute|monitoring|secretmanager)\.[\w.]+)"/g)].map((m) => m[1]);

    // Act
    const roles = runtimeGrants.map((grant) => attribute(grant.body, 'role'));
    const permissions = Object.fromEntries(customRoles.map((role) => [role.labels[1], permissionsOf(role)]));

    // Assess: custom roles, plus secret access bound on the secrets themselves.
    expect(roles.sort()).toEqual([
      '"roles/secretmanager.secretAccessor"',
      '"roles/secretmanager.secretAccessor"',
      'google_project_iam_custom_role.group_observer[each.key].name',
      'google_project_iam_custom_role.group_reader[each.key].name',
      'google_project_iam_custom_role.group_resizer[each.key].name',
      'google_project_iam_custom_role.metrics.name',
    ]);
    expect(
      runtimeGrants
        .filter((grant) => attribute(grant.body, 'role') === '"roles/secretmanager.secretAccessor"')
        .map((grant) => grant.labels[0]),
    ).toEqual(['google_secret_manager_secret_iam_member', 'google_secret_manager_secret_iam_member']);
    expect(permissions).toEqual({
      metrics: ['monitoring.timeSeries.create', 'monitoring.timeSeries.list'],
      group_reader: ['compute.instanceGroupManagers.get'],
      group_resizer: ['compute.instanceGroupManagers.update'],
      group_observer: [
        'compute.autoscalers.list',
        'compute.instances.list',
        'compute.regionOperations.get',
        'compute.zoneOperations.get',
      ],
      // The rotate functions' roles (gcp-rotate-terraform.test.ts), none bound to the scale function's account.
      executor_secret: [
        'secretmanager.secrets.get',
        'secretmanager.secrets.update',
        'secretmanager.versions.access',
        'secretmanager.versions.add',
        'secretmanager.versions.list',
      ],
      group_roller: ['compute.instanceGroupManagers.get', 'compute.instanceGroupManagers.update'],
      roll_observer: ['compute.regionOperations.get', 'compute.zoneOperations.get'],
      rotate_metrics: ['monitoring.timeSeries.create'],
      // The health functions' roles (gcp-health-terraform.test.ts), none bound to the scale function's account.
      health_metrics: ['monitoring.timeSeries.create'],
      health_group_reader: ['compute.instanceGroupManagers.get'],
      health_group_repairer: ['compute.instanceGroupManagers.update'],
      health_observer: [
        'compute.autoscalers.list',
        'compute.instances.list',
        'compute.regionOperations.get',
        'compute.zoneOperations.get',
      ],
    });
    expect(allText).not.toMatch(/roles\/(owner|editor|viewer|compute\.\w+|monitoring\.\w+)"/);
    // IAM roles only on one service account each, never on a project.
    expect(
      iamGrants()
        .filter((grant) => /roles\/iam\./.test(grant.body))
        .map((grant) => grant.labels[0]),
    ).toEqual([
      'google_service_account_iam_member',
      'google_service_account_iam_member',
      'google_service_account_iam_member',
    ]);
    expect(iamGrants().map((grant) => grant.labels[0])).not.toContainEqual(expect.stringMatching(/_(binding|policy)$/));
  });

  it('narrows the group grants to the configured groups with an IAM Condition on resource.name', () => {
    for (const name of ['group_reader', 'group_resizer']) {
      // Act
      const grant = top('resource', 'google_project_iam_member', name);
      const condition = child(child(grant, 'dynamic', 'condition'), 'content');

      // Assess
      expect(attribute(condition.body, 'expression')).toContain('resource.name == ');
    }
    expect(attribute(top('resource', 'google_project_iam_custom_role', 'group_resizer').body, 'for_each')).toBe(
      'local.resize_groups_by_project',
    );
  });

  it('ships an example.tfvars whose config document the function accepts, with a GCP fleet', async () => {
    // Prepare
    const tfvars = await readFile(join(INFRA, 'example.tfvars'), 'utf8');
    const heredoc = /config_document = <<-EOT\n([\s\S]*?)\n\s*EOT/.exec(tfvars)?.[1] ?? '';

    // Act: parsed as the function parses FLEETPLANE_CONFIG, with the token mounted as SRC_ACCESS_TOKEN.
    const config = parseConfigText(heredoc.replace(/^ {2}/gm, ''), 'example.tfvars', {
      SRC_ACCESS_TOKEN: 'fake-token-for-tests',
    });

    // Assess
    expect(tfvars).toMatch(/^sourcegraph_token_secret = "/m);
    expect(config.cloudMonitoring?.projectId).toBe('my-executors-project');
    expect(config.fleets.map((fleet) => fleet.target)).toEqual([
      expect.objectContaining({ cloud: 'gcp', zone: 'us-central1-a' }),
      expect.objectContaining({ cloud: 'gcp', region: 'us-central1' }),
    ]);
  });
});
