/**
 * IAM statement shapes for the CloudFormation template. ARNs are built with `Fn::Join` and `Ref: AWS::Partition` /
 * `Ref: AWS::AccountId` rather than `${AWS::…}` or `${aws:…}` strings: osls would read `${…}` as its own variable syntax,
 * and `${aws:…}` needs AWS credentials, which would break offline `osls package`.
 */

export type CfnString =
  | string
  | { readonly Ref: string }
  | { readonly 'Fn::GetAtt': readonly [string, string] }
  | { readonly 'Fn::Join': readonly [string, readonly CfnString[]] };

export interface IamStatement {
  readonly Effect: 'Allow';
  readonly Action: readonly string[];
  readonly Resource: CfnString | readonly CfnString[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

/** `arn:<partition>:<service>:<region>:<account>:<resource>`, for the account and partition being deployed to. */
export function arnInDeployAccount(service: string, region: string, resource: string): CfnString {
  return {
    'Fn::Join': [
      '',
      ['arn:', { Ref: 'AWS::Partition' }, `:${service}:${region}:`, { Ref: 'AWS::AccountId' }, `:${resource}`],
    ],
  };
}

export function allow(
  action: readonly string[],
  resource: IamStatement['Resource'],
  condition?: IamStatement['Condition'],
): IamStatement {
  const statement: IamStatement = { Effect: 'Allow', Action: action, Resource: resource };
  return condition === undefined ? statement : { ...statement, Condition: condition };
}
