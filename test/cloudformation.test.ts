// deploy/cloudformation.yaml (DESIGN §10): the execution role's policy is exactly what
// `dormant permissions --mode remediate` prints (no drift); cfn-lint passes; and the stack
// creates in moto's CloudFormation with the packaged code in moto's S3: the function, its
// role (policy read back from IAM), the schedule and its permission, and the store URL as a
// Secrets Manager reference rather than a value.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { parse, stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/config.js';
import { providerEntry } from '../src/providers/registry.js';
import { MOTO_ACCOUNT_ID, awsTestEnv, useMoto } from './support/moto.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TEMPLATE_PATH = fileURLToPath(new URL('../deploy/cloudformation.yaml', import.meta.url));
const TEMPLATE = readFileSync(TEMPLATE_PATH, 'utf8');

/** What `dormant permissions --mode remediate` prints for AWS (the same call the command makes). */
const printedPolicy = (): object => providerEntry('aws').permissions('remediate', parseConfig({})).document as object;

interface RoleResource {
  Properties: {
    Policies: { PolicyName: string; PolicyDocument: unknown }[];
    ManagedPolicyArns: unknown[];
  };
}

// The template uses the long form of the intrinsic functions (Ref:, Fn::Sub:), so plain YAML reads it.
const template = parse(TEMPLATE) as { Resources: Record<string, { Type: string; Properties: unknown }> };

describe('the execution role', () => {
  it("has exactly the policy 'dormant permissions --mode remediate' prints, as its only inline policy", () => {
    const role = template.Resources.DormantFunctionRole as unknown as RoleResource;
    const policies = role.Properties.Policies;
    expect(policies.map((p) => p.PolicyName)).toEqual(['dormant-remediate']);
    const expected = printedPolicy();
    expect(
      policies[0]!.PolicyDocument,
      `deploy/cloudformation.yaml drifted from dormant permissions --mode remediate; paste this as PolicyDocument:\n${stringify(expected)}`,
    ).toEqual(expected);
  });

  it("has no other permission than AWS's Lambda execution roles (logs; network interfaces in a VPC)", () => {
    const role = template.Resources.DormantFunctionRole as unknown as RoleResource;
    expect(role.Properties.ManagedPolicyArns).toEqual([
      {
        'Fn::If': [
          'InVpc',
          { 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole' },
          { 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole' },
        ],
      },
    ]);
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types.filter((t) => t.startsWith('AWS::IAM::'))).toEqual(['AWS::IAM::Role']);
  });
});

/** cfn-lint as installed by scripts/test-deps.sh: the console script, or the module through python3. */
function cfnLint(args: string[]): { status: number | null; output: string } {
  for (const [cmd, pre] of [
    ['cfn-lint', []],
    ['python3', ['-c', 'import sys; from cfnlint.runner import main; sys.exit(main())']],
  ] as const) {
    const run = spawnSync(cmd, [...pre, ...args], { cwd: ROOT, encoding: 'utf8' });
    if (run.error || /No module named/.test(run.stderr)) continue;
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  }
  throw new Error("cfn-lint is not installed: run 'bash scripts/test-deps.sh' (it runs pip install cfn-lint)");
}

describe('cfn-lint', () => {
  it('passes deploy/cloudformation.yaml (errors, warnings and informational checks)', () => {
    const run = cfnLint(['--include-checks', 'I', '--', 'deploy/cloudformation.yaml']);
    expect(run.output.trim()).toBe('');
    expect(run.status).toBe(0);
  }, 120_000);
});

// ---------------------------------------------------------------- moto's CloudFormation

const { moto, iam } = useMoto();
const REGION = 'us-east-1';
const BUCKET = 'dormant-code';
const KEY = 'releases/dormant-lambda.zip';

/**
 * A request moto routes by the service in the credential scope. moto does not check
 * signatures, and no SDK client for S3, Lambda, EventBridge or Secrets Manager is installed.
 */
async function motoCall(
  service: string,
  method: string,
  path: string,
  body?: Blob | string,
  headers: Record<string, string> = {},
): Promise<unknown> {
  const res = await fetch(`${moto.endpoint}${path}`, {
    method,
    headers: {
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`,
      ...headers,
    },
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`moto ${service} ${method} ${path}: HTTP ${res.status}: ${text.slice(0, 500)}`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A JSON-protocol call (Secrets Manager, EventBridge). */
const jsonCall = (service: string, target: string, input: object): Promise<unknown> =>
  motoCall(service, 'POST', '/', JSON.stringify(input), {
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-target': target,
  });

/**
 * A policy document as IAM returns it: URL-encoded JSON. moto 5.2 returns the inline policies
 * of a role made by CloudFormation as Python's repr of the parsed document instead
 * (`{'Version': '2012-10-17', …}`); that is turned back into JSON (these policies hold no
 * quotes or Python literals) so the comparison is of the documents, not of moto's quirk.
 */
function policyDocument(text: string): unknown {
  const decoded = decodeURIComponent(text);
  if (!decoded.startsWith("{'")) return JSON.parse(decoded);
  expect(decoded).not.toMatch(/\\|"|\b(True|False|None)\b/);
  return JSON.parse(decoded.replaceAll("'", '"'));
}

let cfn: CloudFormationClient;
let secretArn: string;
const SCHEDULE = 'rate(6 hours)';

beforeAll(async () => {
  // The code the template points at: the real zip, in moto's S3.
  const out = mkdtempSync(join(tmpdir(), 'dormant-cfn-'));
  execFileSync(process.execPath, ['scripts/package-lambda.mjs', '--out', out], { cwd: ROOT, stdio: 'pipe' });
  await motoCall('s3', 'PUT', `/${BUCKET}`);
  await motoCall('s3', 'PUT', `/${BUCKET}/${KEY}`, new Blob([readFileSync(join(out, 'dormant-lambda.zip'))]));
  rmSync(out, { recursive: true, force: true });
  const secret = (await jsonCall('secretsmanager', 'secretsmanager.CreateSecret', {
    Name: 'dormant/store-url',
    SecretString: 'postgres://dormant:not-in-the-template@db.internal:5432/dormant',
  })) as { ARN: string };
  secretArn = secret.ARN;
  const env = awsTestEnv(moto.endpoint);
  cfn = new CloudFormationClient({
    endpoint: env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
  return () => cfn.destroy();
}, 120_000);

describe("moto's CloudFormation", () => {
  it('creates the stack: function, role with the printed policy, schedule and permission', async () => {
    const { StackId } = await cfn.send(
      new CreateStackCommand({
        StackName: 'dormant',
        TemplateBody: TEMPLATE,
        Capabilities: ['CAPABILITY_IAM'],
        Parameters: [
          { ParameterKey: 'CodeBucket', ParameterValue: BUCKET },
          { ParameterKey: 'CodeKey', ParameterValue: KEY },
          { ParameterKey: 'StoreUrlSecret', ParameterValue: secretArn },
          { ParameterKey: 'ScheduleExpression', ParameterValue: SCHEDULE },
          { ParameterKey: 'DormantConfig', ParameterValue: '{inactiveDays: 120}' },
        ],
      }),
    );
    const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: StackId }));
    expect(Stacks?.[0]?.StackStatus, Stacks?.[0]?.StackStatusReason).toBe('CREATE_COMPLETE');
    const outputs = Object.fromEntries((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));

    const { StackResources } = await cfn.send(new DescribeStackResourcesCommand({ StackName: 'dormant' }));
    const physical = (logical: string): string => {
      const r = StackResources?.find((x) => x.LogicalResourceId === logical);
      expect(r?.ResourceStatus, logical).toBe('CREATE_COMPLETE');
      return r!.PhysicalResourceId!;
    };

    // The role, read back from IAM: the printed policy, exactly, and the Lambda trust.
    const roleName = physical('DormantFunctionRole');
    const { PolicyNames } = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }));
    expect(PolicyNames).toEqual(['dormant-remediate']);
    const inline = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: 'dormant-remediate' }));
    expect(policyDocument(inline.PolicyDocument!)).toEqual(printedPolicy());
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: roleName }));
    expect(policyDocument(Role!.AssumeRolePolicyDocument!)).toMatchObject({
      Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    expect(outputs.RoleArn).toBe(Role!.Arn);
    // Nothing else but AWS's logging role (moto 5.2 does not attach a template's ManagedPolicyArns
    // at all; the template's own test above checks that list).
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }));
    for (const p of attached.AttachedPolicies ?? []) {
      expect(p.PolicyArn).toBe('arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole');
    }

    // The function: Node 24, the bundle's handler, the code from S3, the secret as a reference.
    const functionName = physical('DormantFunction');
    const fn = (await motoCall('lambda', 'GET', `/2015-03-31/functions/${functionName}`)) as {
      Configuration: {
        Runtime: string;
        Handler: string;
        Role: string;
        Timeout: number;
        FunctionArn: string;
        Environment: { Variables: Record<string, string> };
      };
    };
    expect(fn.Configuration).toMatchObject({
      Runtime: 'nodejs24.x',
      Handler: 'handler.handler',
      Role: Role!.Arn,
      Timeout: 900,
    });
    // moto does not resolve dynamic references: what the function gets is the reference.
    expect(fn.Configuration.Environment.Variables).toEqual({
      DORMANT_STORE_URL: `{{resolve:secretsmanager:${secretArn}:SecretString}}`,
      DORMANT_CONFIG: '{inactiveDays: 120}',
      DORMANT_LOG_FORMAT: 'json',
      NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
    });
    expect(TEMPLATE).not.toContain('not-in-the-template');
    expect(outputs.FunctionArn).toBe(fn.Configuration.FunctionArn);

    // The schedule invokes the function, and may.
    const ruleName = physical('DormantSchedule');
    const rule = (await jsonCall('events', 'AWSEvents.DescribeRule', { Name: ruleName })) as {
      Arn: string;
      ScheduleExpression: string;
      State: string;
    };
    expect(rule).toMatchObject({ ScheduleExpression: SCHEDULE, State: 'ENABLED', Arn: outputs.ScheduleRuleArn });
    const targets = (await jsonCall('events', 'AWSEvents.ListTargetsByRule', { Rule: ruleName })) as {
      Targets: { Arn: string }[];
    };
    expect(targets.Targets.map((t) => t.Arn)).toEqual([fn.Configuration.FunctionArn]);
    const policy = (await motoCall('lambda', 'GET', `/2015-03-31/functions/${functionName}/policy`)) as {
      Policy: string;
    };
    const statements = (JSON.parse(policy.Policy) as { Statement: Record<string, unknown>[] }).Statement;
    expect(statements).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Principal: { Service: 'events.amazonaws.com' },
        Condition: { ArnLike: { 'AWS:SourceArn': rule.Arn } },
      }),
    ]);
    expect(rule.Arn).toContain(`:${MOTO_ACCOUNT_ID}:rule/`);
  });
});
