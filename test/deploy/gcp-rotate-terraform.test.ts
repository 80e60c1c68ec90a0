/**
 * infra/gcp's rotate functions (rotate.tf), checked on the configuration text as gcp-terraform.test.ts checks the scale
 * function: deployed only when the config document names executorSecret.gcpSecretManager, with their own service
 * account holding only what a rotation does, IAM-only invocation, and the Secret Manager → Pub/Sub → function path.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../shared/config/index.ts';
import { attribute, type Block, child, children, finder, INFRA, iamGrants, readInfra } from './hcl-blocks.ts';

let blocks: Block[];
let allText: string;
let top: ReturnType<typeof finder>;

const resource = (type: string, name: string) => top('resource', type, name);
const rotateBlocks = () => blocks.filter((block) => block.file === 'rotate.tf' && block.type !== 'locals');
const rotateLocals = () => {
  const found = blocks.find((block) => block.file === 'rotate.tf' && block.type === 'locals');
  if (found === undefined) {
    throw new Error('no locals in rotate.tf');
  }
  return found;
};
const rotateLocal = (name: string) => attribute(rotateLocals().body, name);
/** The text of a multi-line local, up to the next local at the same indentation. */
const multilineLocal = (name: string) =>
  new RegExp(`^ {2}${name} = ([\\s\\S]*?)\\n+ {2}\\w`, 'm').exec(rotateLocals().body)?.[1];

beforeAll(async () => {
  // Prepare: every .tf file, in one list of blocks.
  ({ blocks, allText } = await readInfra());
  top = finder(blocks);
});

describe('infra/gcp rotate functions', () => {
  it('deploys nothing for rotation unless the config document names executorSecret.gcpSecretManager', () => {
    // Act
    const gates = rotateBlocks().map((block) => ({
      block: block.labels.join('.'),
      gate: attribute(block.body, 'count') ?? attribute(block.body, 'for_each'),
    }));

    // Assess: every resource and data source counts on rotation_enabled, directly or through a map that is empty
    // without it; rotation_enabled is the config's secret, nothing else.
    expect(rotateLocal('executor_secret_name')).toBe('try(local.config.executorSecret.gcpSecretManager, null)');
    expect(rotateLocal('rotation_enabled')).toBe('local.executor_secret_name != null');
    expect(multilineLocal('roll_groups_by_project')).toMatch(/^local\.rotation_enabled \? \{[\s\S]*\} : \{\}$/);
    expect(gates.length).toBeGreaterThanOrEqual(20);
    for (const { block, gate } of gates) {
      expect(gate, block).toMatch(/^local\.rotation_enabled( &&|\s*\?)|^local\.roll_groups_by_project$/);
    }
    expect(top('resource', 'google_cloud_scheduler_job', 'rotate').body).toContain(
      'count = local.rotation_enabled && var.rotation_schedule != null ? 1 : 0',
    );
  });

  it('refuses rotation variables when the config names no secret to rotate', () => {
    // Act
    const preconditions = children(
      child(resource('google_cloudfunctions2_function', 'scale'), 'lifecycle'),
      'precondition',
    ).map((block) => attribute(block.body, 'condition'));

    // Assess
    expect(preconditions).toContain(
      'local.rotation_enabled || (var.rotation_schedule == null && length(var.rotate_invokers) == 0 && length(var.executor_service_accounts) == 0)',
    );
    expect(attribute(top('variable', 'rotation_schedule').body, 'default')).toBe('null');
    expect(attribute(top('variable', 'rotate_invokers').body, 'default')).toBe('[]');
    expect(attribute(top('variable', 'executor_service_accounts').body, 'default')).toBe('[]');
  });

  it('deploys rotate (HTTP) and rotateOnSecretEvent from one archive whose package.json main is rotate.js', () => {
    // Act
    const functions = ['rotate', 'rotate_on_secret_event'].map((name) => {
      const fn = resource('google_cloudfunctions2_function', name);
      const build = child(fn, 'build_config');
      return {
        entryPoint: attribute(build.body, 'entry_point'),
        runtime: attribute(build.body, 'runtime'),
        object: attribute(child(child(build, 'source'), 'storage_source').body, 'object'),
        account: attribute(child(fn, 'service_config').body, 'service_account_email'),
      };
    });
    const archive = top('data', 'archive_file', 'rotate_source');
    const sources = children(archive, 'source').map((block) => ({
      filename: attribute(block.body, 'filename'),
      content: attribute(block.body, 'content'),
    }));

    // Assess
    expect(functions).toEqual([
      {
        entryPoint: '"rotate"',
        runtime: '"nodejs22"',
        object: 'google_storage_bucket_object.rotate_source[0].name',
        account: 'google_service_account.rotate[0].email',
      },
      {
        entryPoint: '"rotateOnSecretEvent"',
        runtime: '"nodejs22"',
        object: 'google_storage_bucket_object.rotate_source[0].name',
        account: 'google_service_account.rotate[0].email',
      },
    ]);
    expect(sources).toEqual([
      { filename: '"rotate.js"', content: `file("\${local.bundle_dir}/rotate.js")` },
      {
        filename: '"package.json"',
        content: `jsonencode(merge(jsondecode(file("\${local.bundle_dir}/package.json")), { main = "rotate.js" }))`,
      },
      { filename: '"package-lock.json"', content: `file("\${local.bundle_dir}/package-lock.json")` },
    ]);
    expect(attribute(resource('google_storage_bucket_object', 'rotate_source').body, 'name')).toBe(
      `"\${var.rotate_function_name}/\${data.archive_file.rotate_source[0].output_md5}.zip"`,
    );
  });

  it('gives both functions the config, the token and their timeout as the scale function has them', () => {
    for (const name of ['rotate', 'rotate_on_secret_event']) {
      // Act
      const service = child(resource('google_cloudfunctions2_function', name), 'service_config');
      const config = child(service, 'secret_environment_variables');
      const token = child(child(service, 'dynamic', 'secret_environment_variables'), 'content');
      const plain = /environment_variables = merge\(([\s\S]*?)\n {4}\)/.exec(service.body)?.[1] ?? '';

      // Assess
      expect(attribute(config.body, 'key')).toBe('"FLEETPLANE_CONFIG"');
      expect(attribute(config.body, 'version')).toBe('google_secret_manager_secret_version.config.version');
      expect(attribute(token.body, 'key')).toBe('"SRC_ACCESS_TOKEN"');
      expect(plain).toContain('FLEETPLANE_TIMEOUT_SECONDS = tostring(local.rotate_timeout_seconds)');
      expect(plain).not.toMatch(/TOKEN|FLEETPLANE_CONFIG\b|SRC_/);
      expect(attribute(service.body, 'timeout_seconds')).toBe('local.rotate_timeout_seconds');
      expect(attribute(service.body, 'max_instance_count')).toBe('1');
      expect(attribute(service.body, 'ingress_settings')).toBe('var.ingress_settings');
    }
    // An event-driven function may run at most 540 s.
    expect(Number(rotateLocal('rotate_timeout_seconds'))).toBeLessThanOrEqual(540);
  });

  it('runs the rotation as its own service account with exactly the grants a rotation needs', () => {
    // Prepare
    const grants = iamGrants(blocks).filter((grant) => attribute(grant.body, 'member') === 'local.rotate_member');
    const roleOf = (name: string) =>
      [...resource('google_project_iam_custom_role', name).body.matchAll(/"((?:compute|secretmanager)\.[\w.]+)"/g)].map(
        (match) => match[1],
      );

    // Act
    const granted = grants.map((grant) => `${grant.labels[0]}.${grant.labels[1]} ${attribute(grant.body, 'role')}`);

    // Assess: custom roles and secret-level grants; nothing of the scale function's.
    expect(rotateLocal('rotate_member')).toBe(
      `local.rotation_enabled ? "serviceAccount:\${google_service_account.rotate[0].email}" : null`,
    );
    expect(granted.sort()).toEqual([
      'google_project_iam_member.group_roller google_project_iam_custom_role.group_roller[each.key].name',
      'google_project_iam_member.roll_observer google_project_iam_custom_role.roll_observer[each.key].name',
      'google_project_iam_member.rotate_metrics google_project_iam_custom_role.rotate_metrics[0].name',
      'google_secret_manager_secret_iam_member.rotate_config "roles/secretmanager.secretAccessor"',
      'google_secret_manager_secret_iam_member.rotate_executor_secret google_project_iam_custom_role.executor_secret[0].name',
      'google_secret_manager_secret_iam_member.rotate_token "roles/secretmanager.secretAccessor"',
      'google_service_account_iam_member.rotate_act_as "roles/iam.serviceAccountUser"',
    ]);
    expect(roleOf('executor_secret')).toEqual([
      'secretmanager.secrets.get',
      'secretmanager.secrets.update',
      'secretmanager.versions.access',
      'secretmanager.versions.add',
      'secretmanager.versions.list',
    ]);
    expect(roleOf('group_roller')).toEqual([
      'compute.instanceGroupManagers.get',
      'compute.instanceGroupManagers.update',
    ]);
    expect(roleOf('roll_observer')).toEqual(['compute.regionOperations.get', 'compute.zoneOperations.get']);
    expect(
      rotateBlocks()
        .map((block) => block.body)
        .join('\n'),
    ).not.toContain('local.runtime_member');
  });

  it('binds the executor secret role on that secret, created in its project', () => {
    // Act
    const role = resource('google_project_iam_custom_role', 'executor_secret');
    const grant = resource('google_secret_manager_secret_iam_member', 'rotate_executor_secret');

    // Assess
    expect(attribute(role.body, 'project')).toBe('local.executor_secret.project');
    expect(attribute(grant.body, 'project')).toBe('local.executor_secret.project');
    expect(attribute(grant.body, 'secret_id')).toBe('local.executor_secret.secret');
    expect(attribute(resource('google_secret_manager_secret_iam_member', 'rotate_token').body, 'for_each')).toBe(
      'local.rotation_enabled ? local.token_secrets : {}',
    );
  });

  it('narrows the roll to the fleets rolled after a rotation with an IAM Condition on resource.name', () => {
    // Act
    const condition = child(
      child(resource('google_project_iam_member', 'group_roller'), 'dynamic', 'condition'),
      'content',
    );
    const mainLocals = blocks.find((block) => block.file === 'main.tf' && block.type === 'locals')?.body ?? '';
    const groups = /gcp_groups = \[([\s\S]*?)\n {2}\]/.exec(mainLocals)?.[1] ?? '';

    // Assess: every GCP fleet's group unless the fleet sets roll: false, whatever its mode.
    expect(attribute(condition.body, 'expression')).toContain('resource.name == ');
    expect(groups).toContain('roll = try(fleet.roll, null) != false');
    expect(multilineLocal('roll_groups_by_project')).toContain('if group.project == project && group.roll');
  });

  it('lets only named identities invoke rotate, never allUsers or allAuthenticatedUsers', () => {
    // Prepare: the validation's regex, as Terraform reads the HCL string.
    const validation = child(top('variable', 'rotate_invokers'), 'validation');
    const pattern = /regex\("((?:[^"\\]|\\.)*)", member\)/.exec(attribute(validation.body, 'condition') ?? '')?.[1];
    const accepts = new RegExp((pattern ?? '$^').replaceAll('\\\\', '\\'));

    // Act: the health webhook's grants (public with HMAC auth) are gcp-health-terraform.test.ts's.
    const grants = iamGrants(blocks).filter((grant) => grant.file !== 'health.tf');
    const invokerGrants = grants.filter((grant) => attribute(grant.body, 'role') === '"roles/run.invoker"');
    const members = grants.map((grant) => attribute(grant.body, 'member') ?? '');

    // Assess
    expect(members.join('\n')).not.toMatch(/allUsers|allAuthenticatedUsers/);
    expect(invokerGrants.map((grant) => `${grant.labels[1]} ${attribute(grant.body, 'service')}`).sort()).toEqual([
      'invoker google_cloudfunctions2_function.scale.service_config[0].service',
      'rotate_event_invoker google_cloudfunctions2_function.rotate_on_secret_event[0].service_config[0].service',
      'rotate_invoker google_cloudfunctions2_function.rotate[0].service_config[0].service',
      'rotate_manual_invoker google_cloudfunctions2_function.rotate[0].service_config[0].service',
    ]);
    expect(attribute(resource('google_cloud_run_service_iam_member', 'rotate_invoker').body, 'member')).toBe(
      `"serviceAccount:\${google_service_account.rotate_invoker[0].email}"`,
    );
    const named = ['group:admins@example.com', 'user:ops@example.com', 'serviceAccount:ci@p.iam.gserviceaccount.com'];
    expect(named.filter((member) => accepts.test(member))).toEqual(named);
    const refused = ['allUsers', 'allAuthenticatedUsers', 'domain:example.com', 'user:a b@example.com'];
    expect(refused.filter((member) => accepts.test(member))).toEqual([]);
  });

  it('schedules rotations over HTTP with the rotate invoker’s OIDC token, off by default, retried on failure', () => {
    // Act
    const job = resource('google_cloud_scheduler_job', 'rotate');
    const target = child(job, 'http_target');
    const oidc = child(target, 'oidc_token');

    // Assess
    expect(attribute(job.body, 'schedule')).toBe('var.rotation_schedule');
    expect(attribute(target.body, 'http_method')).toBe('"POST"');
    expect(attribute(target.body, 'uri')).toBe('google_cloudfunctions2_function.rotate[0].service_config[0].uri');
    expect(attribute(oidc.body, 'service_account_email')).toBe('google_service_account.rotate_invoker[0].email');
    expect(attribute(oidc.body, 'audience')).toBe('google_cloudfunctions2_function.rotate[0].service_config[0].uri');
    expect(attribute(job.body, 'attempt_deadline')).toBe(`"\${local.rotate_timeout_seconds + 60}s"`);
    expect(Number(attribute(child(job, 'retry_config').body, 'retry_count'))).toBeGreaterThan(0);
  });

  it("triggers rotateOnSecretEvent from the topic Secret Manager's service agent may publish to, with retries", () => {
    // Act
    const trigger = child(resource('google_cloudfunctions2_function', 'rotate_on_secret_event'), 'event_trigger');
    const publisher = resource('google_pubsub_topic_iam_member', 'secret_manager_publisher');
    const agent = resource('google_project_service_identity', 'secret_manager');

    // Assess
    expect(attribute(trigger.body, 'event_type')).toBe('"google.cloud.pubsub.topic.v1.messagePublished"');
    expect(attribute(trigger.body, 'pubsub_topic')).toBe('google_pubsub_topic.rotation[0].id');
    expect(attribute(trigger.body, 'retry_policy')).toBe('"RETRY_POLICY_RETRY"');
    expect(attribute(trigger.body, 'service_account_email')).toBe('google_service_account.rotate_invoker[0].email');
    expect(attribute(publisher.body, 'role')).toBe('"roles/pubsub.publisher"');
    expect(attribute(publisher.body, 'topic')).toBe('google_pubsub_topic.rotation[0].name');
    expect(attribute(publisher.body, 'member')).toBe(
      `"serviceAccount:\${google_project_service_identity.secret_manager[0].email}"`,
    );
    expect(attribute(agent.body, 'provider')).toBe('google-beta');
    expect(attribute(agent.body, 'service')).toBe('"secretmanager.googleapis.com"');
    // The agent of the secret's project publishes, which need not be the functions' project.
    expect(attribute(agent.body, 'project')).toBe('local.executor_secret.project');
  });

  it('lets Pub/Sub mint tokens for the trigger account only, on that account', () => {
    // Act
    const grant = resource('google_service_account_iam_member', 'pubsub_token_creator');

    // Assess
    expect(attribute(grant.body, 'service_account_id')).toBe('google_service_account.rotate_invoker[0].name');
    expect(attribute(grant.body, 'role')).toBe('"roles/iam.serviceAccountTokenCreator"');
    expect(attribute(grant.body, 'member')).toBe(
      `"serviceAccount:\${google_project_service_identity.pubsub[0].email}"`,
    );
  });

  it('outputs the rotate URL, the topic and the gcloud command that subscribes the secret to it', () => {
    // Act
    const output = (name: string) => top('output', name).body;

    // Assess
    expect(attribute(output('rotate_function_uri'), 'value')).toBe(
      'local.rotation_enabled ? google_cloudfunctions2_function.rotate[0].service_config[0].uri : null',
    );
    expect(attribute(output('rotation_topic'), 'value')).toBe(
      'local.rotation_enabled ? google_pubsub_topic.rotation[0].id : null',
    );
    expect(output('rotation_setup_command')).toContain(`"gcloud secrets update \${local.executor_secret.secret}"`);
    expect(output('rotation_setup_command')).toContain(`"--add-topics=\${google_pubsub_topic.rotation[0].id}"`);
  });

  it('references only resources, data sources and locals that infra/gcp declares', () => {
    // Prepare: declared names; comments and strings other than interpolations are left out of the search.
    const declared = new Set(
      blocks
        .filter((block) => block.type === 'resource' || block.type === 'data')
        .map((block) => `${block.type === 'data' ? 'data.' : ''}${block.labels[0]}.${block.labels[1]}`),
    );
    const locals = new Set(
      blocks
        .filter((block) => block.type === 'locals')
        .flatMap((block) => [...block.body.matchAll(/^ {2}(\w+)\s*=/gm)].map((match) => match[1])),
    );
    const variables = new Set(blocks.filter((block) => block.type === 'variable').map((block) => block.labels[0]));
    const code = allText.replace(/#.*$/gm, '');

    // Act
    const resources = [...code.matchAll(/\b(data\.)?(google(?:_\w+)+|archive_file)\.(\w+)/g)].map(
      (match) => `${match[1] ?? ''}${match[2]}.${match[3]}`,
    );
    const localRefs = [...code.matchAll(/\blocal\.(\w+)/g)].map((match) => match[1]);
    const variableRefs = [...code.matchAll(/\bvar\.(\w+)/g)].map((match) => match[1]);

    // Assess
    expect(resources.filter((name) => !declared.has(name))).toEqual([]);
    expect(localRefs.filter((name) => !locals.has(name))).toEqual([]);
    expect(variableRefs.filter((name) => !variables.has(name))).toEqual([]);
  });

  it('documents the rotation in example.tfvars with a config that names the secret only when uncommented', async () => {
    // Prepare
    const tfvars = await readFile(join(INFRA, 'example.tfvars'), 'utf8');
    const heredoc = /config_document = <<-EOT\n([\s\S]*?)\n\s*EOT/.exec(tfvars)?.[1] ?? '';
    const uncommented = heredoc.replace(/^(\s*)# (executorSecret:| {2}gcpSecretManager:)/gm, '$1$2');

    // Act
    const config = parseConfigText(uncommented.replace(/^ {2}/gm, ''), 'example.tfvars', {
      SRC_ACCESS_TOKEN: 'fake-token-for-tests',
    });

    // Assess
    expect(tfvars).toMatch(/^# rotation_schedule = "/m);
    expect(config.executorSecret?.store).toEqual({
      kind: 'gcp-secret-manager',
      name: 'projects/my-executors-project/secrets/executor-frontend-password',
    });
  });
});
