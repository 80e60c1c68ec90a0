import { allow, type IamStatement } from './iam.ts';
import { type DeployPlan, DeployPlanError } from './plan.ts';

/** Logical ids: osls names a function's resources `<Name>LambdaFunction` and `<Name>LogGroup`. */
export const ROTATE_ROLE = 'RotateRole';
export const ROTATE_PERMISSION = 'RotateSecretsManagerInvokePermission';
const ROTATE_FUNCTION = 'RotateLambdaFunction';
const ROTATE_LOG_GROUP = 'RotateLogGroup';

/** What serverless.yml reads besides the scale function's environment and statements. */
export interface ServerlessExtras {
  /** `functions.rotate`: null (osls then drops the function) when the config names no executor secret. */
  readonly rotateFunction: Readonly<Record<string, unknown>> | null;
  /** `resources`: the rotate function's role and Secrets Manager's permission to invoke it, when it is deployed. */
  readonly resources: { readonly Resources: Readonly<Record<string, unknown>> };
}

/**
 * The rotate function as osls declares it: `custom.rotate` (its fixed settings, in serverless.yml) plus what the plan
 * derives. It has a role of its own because osls gives every function the provider's one role: granting the executor
 * secret's write actions there would let the scale function, which runs every minute, rewrite the secret too.
 */
export function serverlessExtras(plan: DeployPlan, settings: unknown): ServerlessExtras {
  if (plan.rotate === undefined) {
    return { rotateFunction: null, resources: { Resources: {} } };
  }
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
    throw new DeployPlanError('serverless.yml must set custom.rotate, the rotate function settings');
  }
  const schedule = plan.rotate.schedule;
  return {
    rotateFunction: {
      ...settings,
      environment: plan.environment,
      role: ROTATE_ROLE,
      events: schedule === undefined ? [] : [{ schedule: { rate: [schedule] } }],
    },
    resources: {
      Resources: {
        [ROTATE_ROLE]: functionRole('fleetplane-rotate', ROTATE_LOG_GROUP, plan.rotate.iamStatements),
        // Secrets Manager calls the function synchronously, once per step, when the secret's rotation is turned on
        // with this function. Only from this account: the secret's owner, never a stranger's secret.
        [ROTATE_PERMISSION]: {
          Type: 'AWS::Lambda::Permission',
          Properties: {
            FunctionName: { 'Fn::GetAtt': [ROTATE_FUNCTION, 'Arn'] },
            Action: 'lambda:InvokeFunction',
            Principal: 'secretsmanager.amazonaws.com',
            SourceAccount: { Ref: 'AWS::AccountId' },
          },
        },
      },
    },
  };
}

/**
 * A role for one function: Lambda may assume it, and it allows `statements` plus writing to that function's own log
 * group (`logGroup`, the logical id osls gives it), since osls adds its log permissions only to its own role.
 */
export function functionRole(policyName: string, logGroup: string, statements: readonly IamStatement[]) {
  const logs = allow(['logs:CreateLogStream', 'logs:PutLogEvents'], { 'Fn::GetAtt': [logGroup, 'Arn'] });
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com'] }, Action: ['sts:AssumeRole'] }],
      },
      Policies: [
        {
          PolicyName: policyName,
          PolicyDocument: { Version: '2012-10-17', Statement: [logs, ...statements] },
        },
      ],
    },
  };
}
