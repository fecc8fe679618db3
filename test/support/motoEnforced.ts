// Test harness: moto with its IAM enforcement (moto_enforced_launcher.py: every request checked
// against the caller's IAM policies, with AWS's resource ARNs), and the principals the
// least-privilege tests run as: an IAM user whose only permissions are one managed policy,
// replaced (a new default version) as a test narrows it. Setup calls are made before
// enforcement is switched on, with moto's unchecked "testing" credentials.
import { fileURLToPath } from 'node:url';
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateUserCommand,
  DeletePolicyVersionCommand,
  IAMClient,
  ListPolicyVersionsCommand,
} from '@aws-sdk/client-iam';
import { type MotoServer, startMoto } from './moto.js';

const ENFORCED_LAUNCHER = fileURLToPath(new URL('./moto_enforced_launcher.py', import.meta.url));

export interface AwsKey {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface EnforcedMoto extends MotoServer {
  /**
   * Switches moto's IAM enforcement on (every request is then signed-checked and authorized)
   * or off (any credentials pass). It sets moto's INITIAL_NO_AUTH_ACTION_COUNT at run time
   * (POST /moto-api/reset-auth), as moto's own `set_initial_no_auth_action_count` does in
   * server mode: counting requests at start-up instead would break on any SDK retry.
   */
  enforce(on: boolean): Promise<void>;
}

/** Starts moto_enforced_launcher.py; enforcement is off until `enforce(true)`. */
export async function startEnforcedMoto(): Promise<EnforcedMoto> {
  const moto = await startMoto({ launcher: ENFORCED_LAUNCHER });
  return {
    ...moto,
    async enforce(on: boolean): Promise<void> {
      const res = await fetch(`${moto.endpoint}/moto-api/reset-auth`, { method: 'POST', body: on ? '0' : 'inf' });
      if (!res.ok) throw new Error(`moto reset-auth: HTTP ${res.status}: ${await res.text()}`);
    },
  };
}

/** An IAM client on moto with these credentials (one attempt: a refusal is never retried away). */
export function iamAs(endpoint: string, key: AwsKey): IAMClient {
  return new IAMClient({ endpoint, region: 'us-east-1', credentials: key, maxAttempts: 1 });
}

/** The environment that makes the CLI (or an SDK) act as `key` on moto. */
export function envFor(endpoint: string, key: AwsKey): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: key.accessKeyId,
    AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: endpoint,
  };
}

export interface Principal {
  name: string;
  arn: string;
  key: AwsKey;
  policyArn: string;
}

/**
 * An IAM user with one access key whose only permissions are `policy`, as a customer managed
 * policy (IAM keeps inline user policies under 2,048 characters; a managed one may have 6,144,
 * and that is where an operator pastes `dormant permissions`).
 */
export async function createPrincipal(iam: IAMClient, name: string, policy: object): Promise<Principal> {
  const user = await iam.send(new CreateUserCommand({ UserName: name }));
  const created = await iam.send(
    new CreatePolicyCommand({ PolicyName: `${name}-policy`, PolicyDocument: JSON.stringify(policy) }),
  );
  const policyArn = created.Policy!.Arn!;
  await iam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: policyArn }));
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  return {
    name,
    arn: user.User!.Arn!,
    key: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! },
    policyArn,
  };
}

/** Makes `policy` the principal's permissions: a new default version, the older ones deleted (IAM keeps 5). */
export async function setPolicy(iam: IAMClient, principal: Principal, policy: object): Promise<void> {
  await iam.send(
    new CreatePolicyVersionCommand({
      PolicyArn: principal.policyArn,
      PolicyDocument: JSON.stringify(policy),
      SetAsDefault: true,
    }),
  );
  const versions = await iam.send(new ListPolicyVersionsCommand({ PolicyArn: principal.policyArn }));
  for (const v of versions.Versions ?? []) {
    if (!v.IsDefaultVersion && v.VersionId) {
      await iam.send(new DeletePolicyVersionCommand({ PolicyArn: principal.policyArn, VersionId: v.VersionId }));
    }
  }
}

interface PolicyDocument {
  Version: string;
  Statement: { Sid?: string; Effect: string; Action: string[]; Resource: string | string[] }[];
}

/** Every action a policy document allows, in order. */
export function actionsOf(policy: object): string[] {
  return (policy as PolicyDocument).Statement.flatMap((s) => s.Action);
}

/** The policy without one action (a statement left with none is dropped: IAM refuses an empty Action). */
export function without(policy: object, action: string): object {
  const doc = policy as PolicyDocument;
  const statements = doc.Statement.map((s) => ({ ...s, Action: s.Action.filter((a) => a !== action) })).filter(
    (s) => s.Action.length > 0,
  );
  return { ...doc, Statement: statements };
}
