// An AWS Organization on moto for tests and benchmarks (issue 9): buildOrg() creates the
// organization (the management account is moto's default account), nested OUs, member
// accounts (some closed), the member role in each (trusting the management account, with an
// external id on request, with an admin inline policy) and users in each through the control API. Members
// are reached like on AWS: AssumeRole into the member role gives keys of that account's IAM.
import {
  CloseAccountCommand,
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { IAMClient } from '@aws-sdk/client-iam';
import pLimit from 'p-limit';
import { MOTO_ACCOUNT_ID, type MotoServer, type SeedUser, awsTestEnv } from './moto.js';

export const DEFAULT_MEMBER_ROLE = 'OrganizationAccountAccessRole';

/** The inline policy on the member role: what AWS's OrganizationAccountAccessRole grants (AdministratorAccess). */
export const MEMBER_ROLE_POLICY_NAME = 'AdministratorAccess';
export const MEMBER_ROLE_POLICY: Record<string, unknown> = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};

export interface OrgSpec {
  /** Created in order; a parent (by name) must come before its children. Default parent: the root. */
  ous?: { name: string; parent?: string }[];
  /** ou: an OU name from `ous` (default: the root). suspended: closed once built (users kept; under
   *  moto.trust(true) AssumeRole into it is refused). */
  accounts: { name: string; ou?: string; suspended?: boolean; users?: SeedUser[] }[];
  /** The member role made in each member. Default: OrganizationAccountAccessRole. */
  roleName?: string;
  /** When set, the member role's trust policy requires this sts:ExternalId. */
  externalId?: string;
  /** Users seeded into the management account. */
  managementUsers?: SeedUser[];
}

export interface OrgAccount {
  id: string;
  name: string;
  /** The OU name from the spec, or null for the root. */
  ou: string | null;
  status: 'ACTIVE' | 'SUSPENDED';
}

export interface BuiltOrg {
  managementId: string;
  rootId: string;
  /** OU name -> OU id (ou-…). */
  ous: Record<string, string>;
  /** In the order of spec.accounts. */
  accounts: OrgAccount[];
}

/** Static AWS credentials (assumeInto gives temporary ones, with a session token). */
export type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

function testCredentials(moto: MotoServer): { endpoint: string; region: string; credentials: Credentials } {
  const env = awsTestEnv(moto.endpoint);
  return {
    endpoint: env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  };
}

/** An Organizations client as the management account (moto's "testing" keys). */
export function orgClient(moto: MotoServer): OrganizationsClient {
  return new OrganizationsClient(testCredentials(moto));
}

/** An STS client as the management account (moto's "testing" keys). */
export function stsClient(moto: MotoServer): STSClient {
  return new STSClient(testCredentials(moto));
}

/** The member role's trust policy: the management account may assume it (with the external id, if given). */
export function memberTrust(externalId?: string, managementId = MOTO_ACCOUNT_ID): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${managementId}:root` },
        Action: 'sts:AssumeRole',
        ...(externalId ? { Condition: { StringEquals: { 'sts:ExternalId': externalId } } } : {}),
      },
    ],
  };
}

/** Temporary keys of `account`'s IAM, from AssumeRole as the management account. */
export async function assumeInto(
  moto: MotoServer,
  account: string,
  options: { roleName?: string; externalId?: string } = {},
): Promise<Credentials> {
  const sts = stsClient(moto);
  try {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${account}:role/${options.roleName ?? DEFAULT_MEMBER_ROLE}`,
        RoleSessionName: 'moto-org-support',
        ...(options.externalId !== undefined ? { ExternalId: options.externalId } : {}),
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`AssumeRole into ${account} gave no credentials`);
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
  } finally {
    sts.destroy();
  }
}

/** An IAM client on moto with the given credentials (e.g. from assumeInto). */
export function iamClientWith(moto: MotoServer, credentials: Credentials, maxAttempts?: number): IAMClient {
  return new IAMClient({
    ...testCredentials(moto),
    credentials,
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
  });
}

/** Builds the organization `spec` describes on a freshly reset moto. */
export async function buildOrg(moto: MotoServer, spec: OrgSpec): Promise<BuiltOrg> {
  const org = orgClient(moto);
  const roleName = spec.roleName ?? DEFAULT_MEMBER_ROLE;
  try {
    const created = await org.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const managementId = created.Organization?.MasterAccountId ?? MOTO_ACCOUNT_ID;
    const rootId = (await org.send(new ListRootsCommand({}))).Roots?.[0]?.Id;
    if (!rootId) throw new Error('moto: the new organization has no root');

    const ous: Record<string, string> = {};
    for (const ou of spec.ous ?? []) {
      if (ous[ou.name]) throw new Error(`OU ${ou.name} is given twice`);
      const parent = ou.parent === undefined ? rootId : ous[ou.parent];
      if (!parent) throw new Error(`OU ${ou.name}: parent ${ou.parent} must be listed before it`);
      const out = await org.send(new CreateOrganizationalUnitCommand({ ParentId: parent, Name: ou.name }));
      const id = out.OrganizationalUnit?.Id;
      if (!id) throw new Error(`moto: CreateOrganizationalUnit ${ou.name} gave no id`);
      ous[ou.name] = id;
    }
    for (const a of spec.accounts) {
      if (a.ou !== undefined && !ous[a.ou]) throw new Error(`account ${a.name}: unknown OU ${a.ou}`);
    }

    // moto serialises on the GIL; a few requests in flight keep it busy without piling up.
    const limit = pLimit(6);
    const trustPolicy = memberTrust(spec.externalId, managementId);
    const accounts = await Promise.all(
      spec.accounts.map((a, i) =>
        limit(async (): Promise<OrgAccount> => {
          const out = await org.send(
            new CreateAccountCommand({ AccountName: a.name, Email: `account-${i}@org.test`, RoleName: roleName }),
          );
          const id = out.CreateAccountStatus?.AccountId;
          if (!id) throw new Error(`moto: CreateAccount ${a.name} gave no account id`);
          if (a.ou !== undefined) {
            await org.send(
              new MoveAccountCommand({ AccountId: id, SourceParentId: rootId, DestinationParentId: ous[a.ou] }),
            );
          }
          // CreateAccount made the role trusting the management account; replace it with
          // the spec's trust policy (the external id) and the admin policy, seeding the users
          // in the same call: one control request per member, no IAM calls counted. A closed
          // account keeps its users, as on AWS, so a scan that wrongly enters it shows them.
          await moto.seed({
            account: id,
            roles: [
              {
                name: roleName,
                trustPolicy,
                replace: true,
                inlinePolicies: { [MEMBER_ROLE_POLICY_NAME]: MEMBER_ROLE_POLICY },
              },
            ],
            ...(a.users?.length ? { users: a.users } : {}),
          });
          if (a.suspended) await org.send(new CloseAccountCommand({ AccountId: id }));
          return { id, name: a.name, ou: a.ou ?? null, status: a.suspended ? 'SUSPENDED' : 'ACTIVE' };
        }),
      ),
    );
    if (spec.managementUsers?.length) await moto.seed({ account: managementId, users: spec.managementUsers });
    return { managementId, rootId, ous, accounts };
  } finally {
    org.destroy();
  }
}
