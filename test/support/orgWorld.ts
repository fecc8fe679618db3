// An AWS Organization on moto for tests and benchmarks (issue 9): moto_org_launcher.py (seeding
// any account, AssumeRole checked against trust policies on request, per-account faults and
// call counts) and buildOrg(), which creates the organization, OUs, member accounts (some
// closed), the member role in each, and users in each through the control API.
import {
  CloseAccountCommand,
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import { MOTO_ACCOUNT_ID, type MotoServer, type SeedUser, awsTestEnv, startMoto } from './moto.js';

const LAUNCHER = fileURLToPath(new URL('./moto_org_launcher.py', import.meta.url));

async function control(moto: MotoServer, route: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${moto.control}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const parsed = (await res.json()) as unknown;
  if (!res.ok) throw new Error(`moto control ${route}: HTTP ${res.status}: ${JSON.stringify(parsed)}`);
  return parsed;
}

export interface OrgMoto extends MotoServer {
  /** Seed users into any account (default: the management account). */
  seedAccount(account: string, users: SeedUser[], roles?: unknown[]): Promise<void>;
  /** AssumeRole checked against the role's trust policy (true) or anything goes (false, moto's default). */
  trust(enforce: boolean): Promise<void>;
  faults(body: { account: string; throttle?: number; deny?: boolean }): Promise<void>;
  calls(account: string): Promise<{ iam: number; byAction: Record<string, number> }>;
  resetCalls(): Promise<void>;
}

export async function startOrgMoto(): Promise<OrgMoto> {
  const moto = await startMoto({ launcher: LAUNCHER });
  return {
    ...moto,
    seed: moto.seed,
    backdate: moto.backdate,
    reset: moto.reset,
    stop: moto.stop,
    async seedAccount(account, users, roles) {
      await control(moto, '/seed', { account, users, ...(roles ? { roles } : {}) });
    },
    async trust(enforce) {
      await control(moto, '/trust', { enforce });
    },
    async faults(body) {
      await control(moto, '/faults', body);
    },
    async calls(account) {
      return (await control(moto, '/calls', { account })) as { iam: number; byAction: Record<string, number> };
    },
    async resetCalls() {
      await control(moto, '/calls', { reset: true });
    },
  };
}

export interface OrgSpec {
  ous?: { name: string; parent?: string }[];
  accounts: { name: string; ou?: string; suspended?: boolean; users?: SeedUser[] }[];
  managementUsers?: SeedUser[];
  roleName?: string;
}

export interface BuiltOrg {
  managementId: string;
  rootId: string;
  ous: Record<string, string>;
  accounts: { id: string; name: string; ou: string | null; status: 'ACTIVE' | 'SUSPENDED' }[];
}

export function orgClient(moto: MotoServer): OrganizationsClient {
  const env = awsTestEnv(moto.endpoint);
  return new OrganizationsClient({
    endpoint: env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
}

/** The trust policy of the member role: the management account may assume it. */
export function memberTrust(externalId?: string): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${MOTO_ACCOUNT_ID}:root` },
        Action: 'sts:AssumeRole',
        ...(externalId ? { Condition: { StringEquals: { 'sts:ExternalId': externalId } } } : {}),
      },
    ],
  };
}

export async function buildOrg(moto: OrgMoto, spec: OrgSpec): Promise<BuiltOrg> {
  const org = orgClient(moto);
  try {
    await org.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const roots = await org.send(new ListRootsCommand({}));
    const rootId = roots.Roots![0]!.Id!;
    const ous: Record<string, string> = {};
    for (const ou of spec.ous ?? []) {
      const parent = ou.parent ? ous[ou.parent] : rootId;
      if (!parent) throw new Error(`OU ${ou.name}: parent ${ou.parent} is not defined before it`);
      const out = await org.send(new CreateOrganizationalUnitCommand({ ParentId: parent, Name: ou.name }));
      ous[ou.name] = out.OrganizationalUnit!.Id!;
    }
    const limit = pLimit(8);
    const roleName = spec.roleName ?? 'OrganizationAccountAccessRole';
    const accounts = await Promise.all(
      spec.accounts.map((a, i) =>
        limit(async () => {
          const created = await org.send(
            // Like AWS, CreateAccount makes the member role, trusting the management account.
            new CreateAccountCommand({ AccountName: a.name, Email: `acct-${i}@org.test`, RoleName: roleName }),
          );
          const id = created.CreateAccountStatus!.AccountId!;
          if (a.ou) {
            const ou = ous[a.ou];
            if (!ou) throw new Error(`account ${a.name}: unknown OU ${a.ou}`);
            await org.send(new MoveAccountCommand({ AccountId: id, SourceParentId: rootId, DestinationParentId: ou }));
          }
          if (a.suspended) {
            await org.send(new CloseAccountCommand({ AccountId: id }));
          } else if (a.users?.length) {
            await moto.seedAccount(id, a.users);
          }
          return {
            id,
            name: a.name,
            ou: a.ou ?? null,
            status: a.suspended ? ('SUSPENDED' as const) : ('ACTIVE' as const),
          };
        }),
      ),
    );
    if (spec.managementUsers?.length) await moto.seedAccount(MOTO_ACCOUNT_ID, spec.managementUsers);
    return { managementId: MOTO_ACCOUNT_ID, rootId, ous, accounts };
  } finally {
    org.destroy();
  }
}
