// The Organizations test support (issue 9): buildOrg on moto, seeding any account, AssumeRole
// trust checks, per-account IAM faults and call counts (moto_launcher.py + moto_org_ext.py).
import type { IAMClient } from '@aws-sdk/client-iam';
import {
  GetAccessKeyLastUsedCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListUsersCommand,
} from '@aws-sdk/client-iam';
import {
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
} from '@aws-sdk/client-organizations';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MOTO_ACCOUNT_ID, useMoto } from './support/moto.js';
import {
  type BuiltOrg,
  MEMBER_ROLE_POLICY,
  MEMBER_ROLE_POLICY_NAME,
  assumeInto,
  buildOrg,
  iamClientWith,
  orgClient,
} from './support/motoOrg.js';

const EXTERNAL_ID = 'ext-7f3a';
const { moto, iam } = useMoto();
let org: BuiltOrg;
const clients: IAMClient[] = [];

/** An IAM client inside `account`, through the member role (external id right unless given). */
async function memberIam(account: string, maxAttempts?: number): Promise<IAMClient> {
  const client = iamClientWith(moto, await assumeInto(moto, account, { externalId: EXTERNAL_ID }), maxAttempts);
  clients.push(client);
  return client;
}

async function userNames(client: IAMClient): Promise<string[]> {
  const out = await client.send(new ListUsersCommand({}));
  return (out.Users ?? []).map((u) => u.UserName ?? '').sort();
}

function member(name: string): string {
  const found = org.accounts.find((a) => a.name === name);
  if (!found) throw new Error(`no account ${name}`);
  return found.id;
}

beforeAll(async () => {
  org = await buildOrg(moto, {
    ous: [{ name: 'prod' }, { name: 'dev' }, { name: 'prod-eu', parent: 'prod' }],
    externalId: EXTERNAL_ID,
    managementUsers: [{ name: 'mgmt-admin' }],
    accounts: Array.from({ length: 12 }, (_, i) => ({
      name: `acct-${i}`,
      ...(i < 4 ? { ou: 'prod' } : i < 6 ? { ou: 'prod-eu' } : i < 9 ? { ou: 'dev' } : {}),
      ...(i === 11 ? { suspended: true } : {}),
      users: [
        { name: `alice-${i}`, keys: [{ lastUsed: '2024-01-02T03:04:05Z' }] },
        { name: `bob-${i}`, password: true },
      ],
    })),
  });
});

afterEach(async () => {
  await moto.trust(false);
  await moto.faults({ clear: true });
});

afterAll(() => {
  for (const c of clients) c.destroy();
});

describe('buildOrg', () => {
  it('builds 12 member accounts in nested OUs, one suspended, under the management account', async () => {
    expect(org.managementId).toBe(MOTO_ACCOUNT_ID);
    expect(org.rootId).toMatch(/^r-/);
    expect(Object.keys(org.ous).sort()).toEqual(['dev', 'prod', 'prod-eu']);
    expect(new Set(org.accounts.map((a) => a.id)).size).toBe(12);
    expect(org.accounts.filter((a) => a.status === 'SUSPENDED').map((a) => a.name)).toEqual(['acct-11']);

    const client = orgClient(moto);
    try {
      const listed = (await client.send(new ListAccountsCommand({}))).Accounts ?? [];
      expect(listed).toHaveLength(13);
      const status = Object.fromEntries(listed.map((a) => [a.Id, a.Status]));
      expect(status[MOTO_ACCOUNT_ID]).toBe('ACTIVE');
      for (const a of org.accounts) expect(status[a.id]).toBe(a.status);

      const children = await client.send(new ListOrganizationalUnitsForParentCommand({ ParentId: org.ous['prod'] }));
      expect((children.OrganizationalUnits ?? []).map((o) => o.Id)).toEqual([org.ous['prod-eu']]);
      const inEu = await client.send(new ListAccountsForParentCommand({ ParentId: org.ous['prod-eu'] }));
      expect((inEu.Accounts ?? []).map((a) => a.Id).sort()).toEqual([member('acct-4'), member('acct-5')].sort());
      const inRoot = await client.send(new ListAccountsForParentCommand({ ParentId: org.rootId }));
      expect((inRoot.Accounts ?? []).map((a) => a.Id).sort()).toEqual(
        [MOTO_ACCOUNT_ID, member('acct-9'), member('acct-10'), member('acct-11')].sort(),
      );
    } finally {
      client.destroy();
    }
  });

  it("shows a member's users only through AssumeRole credentials into that member", async () => {
    expect(await userNames(iam)).toEqual(['mgmt-admin']);
    const inThree = await memberIam(member('acct-3'));
    expect(await userNames(inThree)).toEqual(['alice-3', 'bob-3']);
    expect(await userNames(await memberIam(member('acct-7')))).toEqual(['alice-7', 'bob-7']);

    // The member role carries the spec's trust policy (the external id).
    const role = await inThree.send(new GetRoleCommand({ RoleName: 'OrganizationAccountAccessRole' }));
    const trust = JSON.parse(decodeURIComponent(role.Role?.AssumeRolePolicyDocument ?? '{}')) as unknown;
    expect(JSON.stringify(trust)).toContain(EXTERNAL_ID);
    const policy = await inThree.send(
      new GetRolePolicyCommand({ RoleName: 'OrganizationAccountAccessRole', PolicyName: MEMBER_ROLE_POLICY_NAME }),
    );
    expect(JSON.parse(decodeURIComponent(policy.PolicyDocument ?? '{}'))).toEqual(MEMBER_ROLE_POLICY);
  });

  it('seeds and backdates in the account named, and rejects an account that is not 12 digits', async () => {
    const id = member('acct-2');
    const seeded = await moto.seed({ account: id, users: [{ name: 'carol', keys: [{}] }] });
    expect(seeded.users[0]?.arn).toBe(`arn:aws:iam::${id}:user/carol`);
    await moto.backdate({
      account: id,
      users: [{ name: 'carol', keys: [{ id: seeded.users[0]!.keys[0]!, lastUsed: '2023-05-06T07:08:09Z' }] }],
    });
    const client = await memberIam(id);
    const used = await client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: seeded.users[0]!.keys[0]! }));
    expect(used.AccessKeyLastUsed?.LastUsedDate?.toISOString()).toBe('2023-05-06T07:08:09.000Z');
    expect(await userNames(iam)).toEqual(['mgmt-admin']);

    await expect(moto.seed({ account: '12345', users: [{ name: 'x' }] })).rejects.toThrow(
      /account: expected 12 digits/,
    );
    await expect(moto.backdate({ account: id, users: [{ name: 'mgmt-admin' }] })).rejects.toThrow(/no such user/);
  });
});

describe('AssumeRole trust checks', () => {
  const denied = (account: string, role: string): RegExp =>
    new RegExp(
      `^User: arn:aws:sts::${MOTO_ACCOUNT_ID}:user/moto is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${account}:role/${role}$`,
    );

  async function refusal(account: string, options: { roleName?: string; externalId?: string }): Promise<Error> {
    const err = (await assumeInto(moto, account, options).then(
      () => new Error('AssumeRole was allowed'),
      (e: unknown) => e as Error,
    )) as Error & { $metadata?: { httpStatusCode?: number } };
    expect(err.name).toBe('AccessDenied');
    expect(err.$metadata?.httpStatusCode).toBe(403);
    return err;
  }

  it('refuses a missing role and a wrong or missing external id, and allows the right one', async () => {
    await moto.trust(true);
    const id = member('acct-1');
    expect((await refusal(id, { roleName: 'NoSuchRole', externalId: EXTERNAL_ID })).message).toMatch(
      denied(id, 'NoSuchRole'),
    );
    expect((await refusal(id, { externalId: 'wrong' })).message).toMatch(denied(id, 'OrganizationAccountAccessRole'));
    expect((await refusal(id, {})).message).toMatch(denied(id, 'OrganizationAccountAccessRole'));
    expect(await userNames(await memberIam(id))).toEqual(['alice-1', 'bob-1']);
  });

  it("refuses a role whose trust policy does not name the caller's account", async () => {
    const id = member('acct-8');
    // Default trust policy of a seeded role: the member account's own root.
    await moto.seed({ account: id, roles: [{ name: 'LocalOnly' }] });
    await moto.trust(true);
    await refusal(id, { roleName: 'LocalOnly' });
  });

  it('matches actions case-insensitively, takes a plain account id, and lets a Deny win', async () => {
    const id = member('acct-8');
    const allow = { Effect: 'Allow', Principal: { AWS: MOTO_ACCOUNT_ID }, Action: ['STS:assumerole'] };
    const deny = { Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${MOTO_ACCOUNT_ID}:root` }, Action: 'sts:*' };
    await moto.seed({
      account: id,
      roles: [
        { name: 'PlainId', trustPolicy: { Version: '2012-10-17', Statement: [allow] } },
        { name: 'Denied', trustPolicy: { Version: '2012-10-17', Statement: [allow, deny] } },
      ],
    });
    await moto.trust(true);
    await expect(assumeInto(moto, id, { roleName: 'PlainId' })).resolves.toHaveProperty('accessKeyId');
    await refusal(id, { roleName: 'Denied' });
  });

  it('refuses a suspended account, whose role and users are still there', async () => {
    const closed = member('acct-11');
    await moto.trust(true);
    expect((await refusal(closed, { externalId: EXTERNAL_ID })).message).toMatch(
      denied(closed, 'OrganizationAccountAccessRole'),
    );
    await moto.trust(false);
    expect(await userNames(await memberIam(closed))).toEqual(['alice-11', 'bob-11']);
  });

  it('allows anything when enforcement is off (moto as it is)', async () => {
    const id = member('acct-1');
    await expect(assumeInto(moto, id, { roleName: 'NoSuchRole' })).resolves.toHaveProperty('accessKeyId');
    await expect(assumeInto(moto, id, { externalId: 'wrong' })).resolves.toHaveProperty('accessKeyId');
  });
});

describe('per-account faults and call counts', () => {
  it('throttles the next N IAM requests of one account, then answers normally', async () => {
    const id = member('acct-5');
    const client = await memberIam(id, 1);
    const other = await memberIam(member('acct-6'), 1);
    await moto.faults({ account: id, throttle: 2 });
    for (let i = 0; i < 2; i++) {
      const err = (await client.send(new ListUsersCommand({})).catch((e: unknown) => e)) as Error & {
        $metadata?: { httpStatusCode?: number };
      };
      expect(err.name).toBe('Throttling');
      expect(err.$metadata?.httpStatusCode).toBe(400);
      expect(await userNames(other)).toEqual(['alice-6', 'bob-6']);
    }
    expect(await userNames(client)).toEqual(['alice-5', 'bob-5']);
  });

  it('denies every IAM request of one account until cleared, and no other account', async () => {
    const id = member('acct-0');
    const client = await memberIam(id, 1);
    await moto.faults({ account: id, deny: true });
    for (let i = 0; i < 3; i++) {
      const err = (await client.send(new ListUsersCommand({})).catch((e: unknown) => e)) as Error & {
        $metadata?: { httpStatusCode?: number };
      };
      expect(err.name).toBe('AccessDenied');
      expect(err.$metadata?.httpStatusCode).toBe(403);
      expect(err.message).toMatch(
        new RegExp(
          `^User: arn:aws:sts::${id}:assumed-role/OrganizationAccountAccessRole/moto-org-support is not authorized to perform: iam:ListUsers`,
        ),
      );
    }
    expect(await userNames(await memberIam(member('acct-9'), 1))).toEqual(['alice-9', 'bob-9']);
    expect(await userNames(iam)).toEqual(['mgmt-admin']);
    await moto.faults({ account: id, deny: false });
    expect(await userNames(client)).toEqual(['alice-0', 'bob-0']);
  });

  it('counts IAM requests per account and action, faulted ones included', async () => {
    const a = member('acct-10');
    const b = member('acct-4');
    const inA = await memberIam(a, 1);
    const inB = await memberIam(b, 1);
    await moto.resetCalls();
    await userNames(inA);
    await userNames(inA);
    await inA.send(new GetRoleCommand({ RoleName: 'OrganizationAccountAccessRole' }));
    await moto.faults({ account: b, throttle: 1 });
    await expect(inB.send(new ListUsersCommand({}))).rejects.toThrow();
    await userNames(inB);
    expect(await moto.calls(a)).toEqual({ iam: 3, byAction: { ListUsers: 2, GetRole: 1 } });
    expect(await moto.calls(b)).toEqual({ iam: 2, byAction: { ListUsers: 2 } });
    expect(await moto.calls(MOTO_ACCOUNT_ID)).toEqual({ iam: 0, byAction: {} });
    await moto.resetCalls();
    expect(await moto.calls(a)).toEqual({ iam: 0, byAction: {} });
    await expect(moto.faults({ account: 'nope', deny: true })).rejects.toThrow(/account: expected 12 digits/);
  });
});

describe('reset', () => {
  // Last: it wipes the organization the other tests use.
  it('clears trust checks, faults and counts along with every backend', async () => {
    const id = member('acct-1');
    const client = await memberIam(id, 1);
    await moto.trust(true);
    await moto.faults({ account: MOTO_ACCOUNT_ID, deny: true });
    await moto.faults({ account: id, throttle: 5 });
    await expect(client.send(new ListUsersCommand({}))).rejects.toThrow(/Rate exceeded/);
    expect((await moto.calls(id)).iam).toBe(1);

    await moto.reset();
    expect(await moto.calls(id)).toEqual({ iam: 0, byAction: {} });
    // No deny on the management account, and its users are gone.
    expect(await userNames(iam)).toEqual([]);
    // Trust checks are off again: a role that does not exist can be assumed, as moto does;
    // and the throttle on the account is gone (one attempt, no retries).
    const fresh = iamClientWith(moto, await assumeInto(moto, id, { roleName: 'NoSuchRole' }), 1);
    clients.push(fresh);
    expect(await userNames(fresh)).toEqual([]);
  });
});
