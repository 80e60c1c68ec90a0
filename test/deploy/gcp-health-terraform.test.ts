/**
 * infra/gcp's health functions (health.tf), checked on the configuration text as gcp-rotate-terraform.test.ts checks the
 * rotate functions: one archive serving `healthCheck` (Cloud Scheduler) and `webhook`, their own service account with
 * only what a check, the webhook and (with an executor secret) a rotation need, and the webhook public only when it
 * checks HMAC signatures itself.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../shared/config/index.ts';
import { DEFAULT_HEALTH } from '../../shared/domain/health.ts';
import { attribute, type Block, child, children, finder, INFRA, iamGrants, readInfra } from './hcl-blocks.ts';

let blocks: Block[];
let top: ReturnType<typeof finder>;

const resource = (type: string, name: string) => top('resource', type, name);
const healthBlocks = () => blocks.filter((block) => block.file === 'health.tf' && block.type !== 'locals');
const healthLocal = (name: string) => {
  const locals = blocks.find((block) => block.file === 'health.tf' && block.type === 'locals');
  if (locals === undefined) {
    throw new Error('no locals in health.tf');
  }
  return attribute(locals.body, name);
};
const gateOf = (block: Block) => attribute(block.body, 'count') ?? attribute(block.body, 'for_each');
const FUNCTIONS = ['health_check', 'webhook'] as const;

beforeAll(async () => {
  // Prepare: every .tf file, in one list of blocks.
  ({ blocks } = await readInfra());
  top = finder(blocks);
});

describe('infra/gcp health functions', () => {
  it('deploys healthCheck and webhook from one archive whose package.json main is health.js', () => {
    // Act
    const functions = FUNCTIONS.map((name) => {
      const fn = resource('google_cloudfunctions2_function', name);
      const build = child(fn, 'build_config');
      return {
        entryPoint: attribute(build.body, 'entry_point'),
        runtime: attribute(build.body, 'runtime'),
        object: attribute(child(child(build, 'source'), 'storage_source').body, 'object'),
        account: attribute(child(fn, 'service_config').body, 'service_account_email'),
      };
    });
    const sources = children(top('data', 'archive_file', 'health_source'), 'source').map((block) => ({
      filename: attribute(block.body, 'filename'),
      content: attribute(block.body, 'content'),
    }));

    // Assess
    expect(functions).toEqual(
      ['"healthCheck"', '"webhook"'].map((entryPoint) => ({
        entryPoint,
        runtime: '"nodejs22"',
        object: 'google_storage_bucket_object.health_source.name',
        account: 'google_service_account.health.email',
      })),
    );
    expect(sources).toEqual([
      { filename: '"health.js"', content: `file("\${local.bundle_dir}/health.js")` },
      {
        filename: '"package.json"',
        content: `jsonencode(merge(jsondecode(file("\${local.bundle_dir}/package.json")), { main = "health.js" }))`,
      },
      { filename: '"package-lock.json"', content: `file("\${local.bundle_dir}/package-lock.json")` },
    ]);
    expect(attribute(resource('google_cloudfunctions2_function', 'webhook').body, 'name')).toBe(
      'local.webhook_function_name',
    );
    expect(healthLocal('webhook_function_name')).toBe(`"\${var.health_function_name}-webhook"`);
  });

  it('gives both one instance at most, the config and token as secrets, and their timeout', () => {
    for (const name of FUNCTIONS) {
      // Act
      const service = child(resource('google_cloudfunctions2_function', name), 'service_config');
      const config = child(service, 'secret_environment_variables');
      const token = child(child(service, 'dynamic', 'secret_environment_variables'), 'content');
      const plain = /environment_variables = merge\(([\s\S]*?)\n {4}\)/.exec(service.body)?.[1] ?? '';

      // Assess: one instance is what makes the webhook's in-memory replay guard sufficient.
      expect(attribute(service.body, 'max_instance_count')).toBe('1');
      expect(attribute(service.body, 'max_instance_request_concurrency')).toBe('1');
      expect(attribute(service.body, 'timeout_seconds')).toBe('local.health_timeout_seconds');
      expect(attribute(config.body, 'key')).toBe('"FLEETPLANE_CONFIG"');
      expect(attribute(config.body, 'version')).toBe('google_secret_manager_secret_version.config.version');
      expect(attribute(token.body, 'key')).toBe('"SRC_ACCESS_TOKEN"');
      expect(plain).toContain('FLEETPLANE_TIMEOUT_SECONDS = tostring(local.health_timeout_seconds)');
      expect(plain).not.toMatch(/TOKEN|FLEETPLANE_CONFIG\b|SRC_|WEBHOOK/);
    }
    expect(Number(healthLocal('health_timeout_seconds'))).toBeLessThanOrEqual(3600);
    expect(
      attribute(
        child(resource('google_cloudfunctions2_function', 'health_check'), 'service_config').body,
        'ingress_settings',
      ),
    ).toBe('var.ingress_settings');
    expect(
      attribute(
        child(resource('google_cloudfunctions2_function', 'webhook'), 'service_config').body,
        'ingress_settings',
      ),
    ).toBe('var.webhook_ingress_settings');
  });

  it('runs as its own service account with exactly the grants a check, the webhook and a rotation need', () => {
    // Prepare
    const grants = iamGrants(blocks).filter((grant) => attribute(grant.body, 'member') === 'local.health_member');
    const roleOf = (name: string) =>
      [
        ...resource('google_project_iam_custom_role', name).body.matchAll(
          /"((?:compute|monitoring|secretmanager)\.[\w.]+)"/g,
        ),
      ].map((match) => match[1]);

    // Act
    const granted = grants.map((grant) => `${grant.labels[0]}.${grant.labels[1]} ${attribute(grant.body, 'role')}`);

    // Assess: its own custom roles, rotate.tf's for rotating, secret-level grants; nothing of the scale function's.
    expect(healthLocal('health_member')).toBe(`"serviceAccount:\${google_service_account.health.email}"`);
    expect(granted.sort()).toEqual([
      'google_project_iam_member.health_group_reader google_project_iam_custom_role.health_group_reader[each.key].name',
      'google_project_iam_member.health_group_repairer google_project_iam_custom_role.health_group_repairer[each.key].name',
      'google_project_iam_member.health_group_roller google_project_iam_custom_role.group_roller[each.key].name',
      'google_project_iam_member.health_metrics google_project_iam_custom_role.health_metrics.name',
      'google_project_iam_member.health_observer google_project_iam_custom_role.health_observer[each.key].name',
      'google_project_iam_member.health_roll_observer google_project_iam_custom_role.roll_observer[each.key].name',
      'google_secret_manager_secret_iam_member.health_config "roles/secretmanager.secretAccessor"',
      'google_secret_manager_secret_iam_member.health_executor_secret google_project_iam_custom_role.executor_secret[0].name',
      'google_secret_manager_secret_iam_member.health_token "roles/secretmanager.secretAccessor"',
      'google_secret_manager_secret_iam_member.health_webhook_secret "roles/secretmanager.secretAccessor"',
      'google_service_account_iam_member.health_act_as "roles/iam.serviceAccountUser"',
    ]);
    expect(roleOf('health_metrics')).toEqual(['monitoring.timeSeries.create']);
    expect(roleOf('health_group_reader')).toEqual(['compute.instanceGroupManagers.get']);
    // recreateInstances checks update on the group, zonal and regional.
    expect(roleOf('health_group_repairer')).toEqual(['compute.instanceGroupManagers.update']);
    expect(roleOf('health_observer')).toEqual([
      'compute.autoscalers.list',
      'compute.instances.list',
      'compute.regionOperations.get',
      'compute.zoneOperations.get',
    ]);
    expect(
      healthBlocks()
        .map((block) => block.body)
        .join('\n'),
    ).not.toMatch(/local\.(runtime|rotate)_member/);
  });

  it('reads every GCP fleet’s group, recreates VMs in direct fleets’ only, each narrowed by an IAM Condition', () => {
    // Act
    const conditioned = ['health_group_reader', 'health_group_repairer', 'health_group_roller'].map((name) => {
      const grant = resource('google_project_iam_member', name);
      return {
        gate: gateOf(grant),
        expression: attribute(child(child(grant, 'dynamic', 'condition'), 'content').body, 'expression'),
      };
    });
    const observer = resource('google_project_iam_custom_role', 'health_observer');

    // Assess
    expect(conditioned.map(({ gate }) => gate)).toEqual([
      'local.health_groups_by_project',
      'local.health_repair_groups_by_project',
      'local.roll_groups_by_project',
    ]);
    for (const { expression } of conditioned) {
      expect(expression).toContain('resource.name == ');
    }
    expect(gateOf(resource('google_project_iam_custom_role', 'health_group_repairer'))).toBe(
      'local.health_repair_groups_by_project',
    );
    const locals = blocks.find((block) => block.file === 'health.tf' && block.type === 'locals')?.body ?? '';
    const repair = /health_repair_groups_by_project = \{([\s\S]*?)\n {2}\}/.exec(locals)?.[1];
    expect(repair).toContain('if group.project == project && group.mode == "direct"');
    // Operations are read only where VMs are recreated.
    expect(observer.body).toContain('contains(keys(local.health_repair_groups_by_project), each.key) ? [');
  });

  it('gates the rotation grants on the executor secret and the HMAC key grant on webhook.auth hmac', () => {
    // Act
    const gate = (type: string, name: string) => gateOf(resource(type, name));

    // Assess: without an executor secret rotate.tf's roles and roll_groups_by_project do not exist.
    expect(gate('google_secret_manager_secret_iam_member', 'health_executor_secret')).toBe(
      'local.rotation_enabled ? 1 : 0',
    );
    expect(gate('google_project_iam_member', 'health_group_roller')).toBe('local.roll_groups_by_project');
    expect(gate('google_project_iam_member', 'health_roll_observer')).toBe('local.roll_groups_by_project');
    expect(gate('google_service_account_iam_member', 'health_act_as')).toBe(
      'local.rotation_enabled ? toset(var.executor_service_accounts) : toset([])',
    );
    expect(gate('google_secret_manager_secret_iam_member', 'health_webhook_secret')).toBe(
      'local.webhook_secret == null ? 0 : 1',
    );
    expect(healthLocal('webhook_auth')).toBe('try(local.config.webhook.auth, "iam")');
    expect(healthLocal('webhook_secret_name')).toBe(
      'local.webhook_auth == "hmac" ? try(local.config.webhook.secret.gcpSecretManager, null) : null',
    );
    // Everything else is deployed whatever the config says.
    const ungated = healthBlocks()
      .filter((block) => block.type !== 'data' && gateOf(block) === undefined)
      .map((block) => block.labels.join('.'));
    expect(ungated.sort()).toEqual([
      'google_cloud_run_service_iam_member.health_invoker',
      'google_cloud_scheduler_job.health',
      'google_cloudfunctions2_function.health_check',
      'google_cloudfunctions2_function.webhook',
      'google_project_iam_custom_role.health_metrics',
      'google_project_iam_member.health_metrics',
      'google_secret_manager_secret_iam_member.health_config',
      'google_service_account.health',
      'google_service_account.health_invoker',
      'google_storage_bucket_object.health_source',
    ]);
  });

  it('lets named identities call the webhook with IAM auth, and everyone (allUsers) only with HMAC auth', () => {
    // Prepare: the validation's regex, as Terraform reads the HCL string.
    const validation = child(top('variable', 'webhook_invokers'), 'validation');
    const pattern = /regex\("((?:[^"\\]|\\.)*)", member\)/.exec(attribute(validation.body, 'condition') ?? '')?.[1];
    const accepts = new RegExp((pattern ?? '$^').replaceAll('\\\\', '\\'));

    // Act
    const publicGrants = iamGrants(blocks).filter((grant) => /allUsers|allAuthenticatedUsers/.test(grant.body));
    const named = resource('google_cloud_run_service_iam_member', 'webhook_invoker');
    const open = resource('google_cloud_run_service_iam_member', 'webhook_public');
    const preconditions = children(
      child(resource('google_cloudfunctions2_function', 'webhook'), 'lifecycle'),
      'precondition',
    ).map((block) => attribute(block.body, 'condition'));

    // Assess: the one public grant exists only with hmac, where the function refuses unsigned requests itself.
    expect(publicGrants.map((grant) => grant.labels.join('.'))).toEqual([
      'google_cloud_run_service_iam_member.webhook_public',
    ]);
    expect(attribute(open.body, 'member')).toBe('"allUsers"');
    expect(gateOf(open)).toBe('local.webhook_auth == "hmac" ? 1 : 0');
    expect(attribute(open.body, 'role')).toBe('"roles/run.invoker"');
    expect(attribute(open.body, 'service')).toBe('google_cloudfunctions2_function.webhook.service_config[0].service');
    expect(gateOf(named)).toBe('local.webhook_auth == "iam" ? toset(var.webhook_invokers) : toset([])');
    expect(attribute(named.body, 'member')).toBe('each.value');
    expect(attribute(named.body, 'service')).toBe('google_cloudfunctions2_function.webhook.service_config[0].service');
    expect(preconditions).toContain('local.webhook_auth != "hmac" || length(var.webhook_invokers) == 0');
    expect(attribute(top('variable', 'webhook_invokers').body, 'default')).toBe('[]');
    const principals = [
      'group:admins@example.com',
      'user:ops@example.com',
      'serviceAccount:ci@p.iam.gserviceaccount.com',
    ];
    expect(principals.filter((member) => accepts.test(member))).toEqual(principals);
    const refused = ['allUsers', 'allAuthenticatedUsers', 'domain:example.com', 'user:a b@example.com'];
    expect(refused.filter((member) => accepts.test(member))).toEqual([]);
  });

  it('refuses a webhook key in AWS Secrets Manager in the config document', () => {
    // Act
    const conditions = children(top('variable', 'config_document'), 'validation').map((block) =>
      attribute(block.body, 'condition'),
    );

    // Assess
    expect(conditions).toContain('!can(yamldecode(var.config_document).webhook.secret.awsSecretsManager)');
  });

  it('schedules a check every 5 minutes over HTTP with its own invoker’s OIDC token, no retries', () => {
    // Act
    const job = resource('google_cloud_scheduler_job', 'health');
    const target = child(job, 'http_target');
    const oidc = child(target, 'oidc_token');
    const invokerGrants = iamGrants(blocks).filter((grant) =>
      grant.body.includes('google_service_account.health_invoker.email'),
    );

    // Assess
    expect(attribute(job.body, 'schedule')).toBe('var.health_schedule');
    expect(attribute(top('variable', 'health_schedule').body, 'default')).toBe('"*/5 * * * *"');
    expect(attribute(target.body, 'http_method')).toBe('"POST"');
    expect(attribute(target.body, 'uri')).toBe('google_cloudfunctions2_function.health_check.service_config[0].uri');
    expect(attribute(oidc.body, 'service_account_email')).toBe('google_service_account.health_invoker.email');
    expect(attribute(oidc.body, 'audience')).toBe('google_cloudfunctions2_function.health_check.service_config[0].uri');
    expect(attribute(job.body, 'attempt_deadline')).toBe('local.health_attempt_deadline');
    expect(healthLocal('health_attempt_deadline')).toBe(`"\${local.health_timeout_seconds + 60}s"`);
    expect(attribute(child(job, 'retry_config').body, 'retry_count')).toBe('0');
    // Its invoker may call the check only: not the webhook, not the scale or rotate functions.
    expect(
      invokerGrants.map(
        (grant) => `${grant.labels[1]} ${attribute(grant.body, 'role')} ${attribute(grant.body, 'service')}`,
      ),
    ).toEqual([
      'health_invoker "roles/run.invoker" google_cloudfunctions2_function.health_check.service_config[0].service',
    ]);
  });

  it('outputs the webhook URL', () => {
    // Act
    const output = top('output', 'webhook_url');

    // Assess
    expect(attribute(output.body, 'value')).toBe('google_cloudfunctions2_function.webhook.service_config[0].uri');
  });

  it('documents the webhook key and the health settings in example.tfvars, accepted when uncommented', async () => {
    // Prepare: uncomment the document's webhook and health sections only.
    const tfvars = await readFile(join(INFRA, 'example.tfvars'), 'utf8');
    const heredoc = /config_document = <<-EOT\n([\s\S]*?)\n\s*EOT/.exec(tfvars)?.[1] ?? '';
    const uncommented = heredoc.replace(
      /^(\s*)# ((?:webhook|health):|\s+(?:auth|secret|graceSeconds|staleSeconds|maxReplacement\w+):|\s+gcpSecretManager: \S+webhook)/gm,
      '$1$2',
    );

    // Act
    const config = parseConfigText(uncommented.replace(/^ {2}/gm, ''), 'example.tfvars', {
      SRC_ACCESS_TOKEN: 'fake-token-for-tests',
    });

    // Assess
    expect(tfvars).toMatch(/^# health_schedule {2}= "\*\/5 \* \* \* \*"$/m);
    expect(tfvars).toMatch(/^# webhook_invokers = \["group:/m);
    expect(config.webhook).toEqual({
      auth: 'hmac',
      secret: {
        kind: 'gcp-secret-manager',
        name: 'projects/my-executors-project/secrets/fleetplane-webhook-key/versions/latest',
      },
      toleranceSeconds: 300,
    });
    expect(config.health).toEqual(DEFAULT_HEALTH);
    expect(config.executorSecret).toBeUndefined();
  });
});
