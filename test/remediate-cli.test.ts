// The remediation commands end to end, as a user runs them: `node dist/cli/main.js` against
// moto, on both stores (SQLite in a temp file, and a real PostgreSQL server). Plan → approve
// → apply → restore → history, staging, live re-verification, the guards, and snoozes
// (DESIGN §3–§5). Run `npm run build` first.
import type { BackupEnvelope } from '../src/model/backup.js';
import type { UserBackup } from '../src/providers/aws/aws-backup.js';
import {
  AddUserToGroupCommand,
  AttachUserPolicyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreateVirtualMFADeviceCommand,
  EnableMFADeviceCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupsForUserCommand,
  ListMFADevicesCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  ListUserTagsCommand,
  ListVirtualMFADevicesCommand,
  PutUserPolicyCommand,
  TagUserCommand,
  UploadSigningCertificateCommand,
  UploadSSHPublicKeyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { decide } from '../src/engine/decide.js';
import { history } from '../src/engine/history.js';
import { listBackups } from '../src/store/backups.js';
import { journalFor } from '../src/store/journal.js';
import { type CliExit, type Workspace, describeRun, runInWorkspace } from './support/cli.js';
import {
  activeSeedUser as active,
  signingCertificate,
  sshPublicKey,
  staleSeedUser as stale,
} from './support/identities.js';
import { MOTO_ACCOUNT_ID, iamAccessKeys, iamHasLoginProfile, iamUserExists, useMoto } from './support/moto.js';
import { ENGINES, useBothEngines, withStore } from './support/stores.js';

const DAY = 86_400_000;
const ago = (days: number): string => new Date(Date.now() - days * DAY).toISOString();

// ---------------------------------------------------------------- the CLI

interface PlanJson {
  id: string;
  createdAt: string;
  items: {
    id: string;
    identityId: string;
    identityName: string;
    credentialId: string | null;
    action: string;
    ruleIds: string[];
    status: string;
    notBefore: string;
  }[];
}

interface HistoryJson {
  plans: {
    id: string;
    createdAt: string;
    createdBy: string;
    items: (PlanJson['items'][number] & { reason: string | null; decidedBy: string | null; seq: number })[];
    decisions: {
      itemId: string;
      decision: string;
      by: string;
      reason: string | null;
      at: string;
      snoozeUntil: string | null;
    }[];
  }[];
  events: { at: string; actor: string; kind: string; planId: string | null; itemId: string | null; detail: unknown }[];
}

/** Runs the built CLI (asynchronously: the test process may be serving a proxy meanwhile). */
function dormant(ws: Workspace, args: string[], env: Record<string, string> = {}): Promise<CliExit> {
  return runInWorkspace(ws, args, { endpoint: moto.endpoint, env });
}

async function ok(ws: Workspace, args: string[], env?: Record<string, string>): Promise<string> {
  const r = await dormant(ws, args, env);
  expect(r.code, describeRun(r)).toBe(0);
  return r.stdout;
}

async function plan(ws: Workspace): Promise<PlanJson> {
  return JSON.parse(await ok(ws, ['plan', '--format', 'json'])) as PlanJson;
}

async function historyJson(ws: Workspace): Promise<HistoryJson> {
  return JSON.parse(await ok(ws, ['history', '--format', 'json'])) as HistoryJson;
}

function itemsOf(p: PlanJson, user: string): PlanJson['items'] {
  return p.items.filter((i) => i.identityName === user);
}

/** Approve every item of these users, by item id. */
async function approve(ws: Workspace, p: PlanJson, users: string[], extra: string[] = []): Promise<string[]> {
  const ids = p.items.filter((i) => users.includes(i.identityName)).map((i) => i.id);
  expect(ids.length).toBeGreaterThan(0);
  await ok(ws, ['approve', p.id, ...ids, ...extra]);
  return ids;
}

// ---------------------------------------------------------------- moto

const { moto, iam } = useMoto({ resetEach: true });
const stores = useBothEngines('dormant-remediate-');

const userExists = (name: string): Promise<boolean> => iamUserExists(iam, name);
const hasLoginProfile = (name: string): Promise<boolean> => iamHasLoginProfile(iam, name);
const keyStatuses = async (name: string): Promise<string[]> =>
  (await iamAccessKeys(iam, name)).map((k) => k.Status ?? '?');

/** Everything about every user that an apply could change. */
async function snapshot(): Promise<unknown> {
  const users = (await iam.send(new ListUsersCommand({}))).Users ?? [];
  const out: Record<string, unknown> = {};
  for (const u of users) {
    const name = u.UserName!;
    out[name] = {
      arn: u.Arn,
      path: u.Path,
      keys: ((await iam.send(new ListAccessKeysCommand({ UserName: name }))).AccessKeyMetadata ?? []).map((k) => [
        k.AccessKeyId,
        k.Status,
      ]),
      login: await hasLoginProfile(name),
      groups: ((await iam.send(new ListGroupsForUserCommand({ UserName: name }))).Groups ?? []).map((g) => g.GroupName),
      attached: ((await iam.send(new ListAttachedUserPoliciesCommand({ UserName: name }))).AttachedPolicies ?? []).map(
        (p) => p.PolicyArn,
      ),
      inline: (await iam.send(new ListUserPoliciesCommand({ UserName: name }))).PolicyNames ?? [],
      tags: (await iam.send(new ListUserTagsCommand({ UserName: name }))).Tags ?? [],
      mfa: ((await iam.send(new ListMFADevicesCommand({ UserName: name }))).MFADevices ?? []).map(
        (d) => d.SerialNumber,
      ),
    };
  }
  return out;
}

const INLINE_DOCUMENT = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'Scratch',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject'],
      Resource: 'arn:aws:s3:::scratch/home/${aws:username}/*',
      Condition: { StringEquals: { 'aws:RequestTag/purpose': 'a b&c=d%' } },
    },
  ],
};

function parsePolicy(document: string | undefined): unknown {
  const text = (document ?? '').trimStart().startsWith('{') ? document! : decodeURIComponent(document ?? '');
  return JSON.parse(text);
}

// ---------------------------------------------------------------- the tests

describe.each(ENGINES)('remediation commands on moto, store %s', (engine) => {
  const workspace = (config: string): Promise<Workspace> => stores.workspace(engine, config);

  /** The history document read straight from the store (what `history --format json` prints). */
  async function storedHistory(ws: Workspace): Promise<HistoryJson> {
    return (await withStore(ws, (store) => history(store))) as unknown as HistoryJson;
  }

  /**
   * Approve every item of these users straight in the store (what `dormant approve` does; the
   * command itself is exercised in the round trip), to keep the number of CLI runs down.
   */
  async function approveInStore(ws: Workspace, p: PlanJson, users: string[] | 'all'): Promise<string[]> {
    const ids = p.items.filter((i) => users === 'all' || users.includes(i.identityName)).map((i) => i.id);
    expect(ids.length).toBeGreaterThan(0);
    const result = await withStore(ws, (store) =>
      decide(store, {
        planId: p.id,
        items: ids,
        all: false,
        decision: 'approve',
        by: 'alice',
        reason: 'stale',
        channel: 'cli',
      }),
    );
    expect(result.changed.map((i) => i.id)).toEqual(ids);
    return ids;
  }

  const SAME_RUN = 'remediation:\n  deleteAfterDays: 0\n  maxActionsPercent: 100\n';

  it('round trip: plan, approve, apply deletes the stale user completely, restore brings it back', async () => {
    const ws = await workspace(SAME_RUN);
    const name = 'stale-alice';
    const seeded = await moto.seed({
      users: [
        stale(name, {
          path: '/engineering/',
          tags: { team: 'data', owner: 'alice@example.com' },
          keys: [
            { createDate: ago(400), lastUsed: ago(300) },
            { createDate: ago(400), lastUsed: null },
          ],
        }),
        active('active-bob'),
        stale('stale-carol', { keys: [{ createDate: ago(400), lastUsed: ago(300) }, { createDate: ago(400) }] }),
      ],
    });
    const keys = seeded.users[0]!.keys;
    for (const group of ['analysts', 'engineers']) {
      await iam.send(new CreateGroupCommand({ GroupName: group }));
      await iam.send(new AddUserToGroupCommand({ GroupName: group, UserName: name }));
    }
    const policy = await iam.send(
      new CreatePolicyCommand({
        PolicyName: 'eng-read',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'iam:GetUser', Resource: '*' }],
        }),
      }),
    );
    const policyArn = policy.Policy!.Arn!;
    await iam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: policyArn }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: name,
        PolicyName: 'scratch-space',
        PolicyDocument: JSON.stringify(INLINE_DOCUMENT, null, 2),
      }),
    );
    const mfa = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: `${name}-phone` }));
    const mfaSerial = mfa.VirtualMFADevice!.SerialNumber!;
    await iam.send(
      new EnableMFADeviceCommand({
        UserName: name,
        SerialNumber: mfaSerial,
        AuthenticationCode1: '123456',
        AuthenticationCode2: '654321',
      }),
    );
    await iam.send(new UploadSSHPublicKeyCommand({ UserName: name, SSHPublicKeyBody: sshPublicKey() }));
    await iam.send(new UploadSigningCertificateCommand({ UserName: name, CertificateBody: signingCertificate() }));
    const carolBefore = await snapshot().then((s) => (s as Record<string, unknown>)['stale-carol']);
    const bobBefore = await snapshot().then((s) => (s as Record<string, unknown>)['active-bob']);

    // ---- plan: the documented JSON shape (DESIGN §3)
    const p = await plan(ws);
    expect(p).toEqual(
      expect.objectContaining({
        id: expect.stringMatching(/^pl-/) as unknown,
        createdAt: expect.any(String) as unknown,
      }),
    );
    expect(Date.parse(p.createdAt)).not.toBeNaN();
    for (const item of p.items) {
      expect(item).toEqual(
        expect.objectContaining({
          id: expect.any(String) as unknown,
          identityId: expect.stringMatching(/^arn:aws:iam::/) as unknown,
          identityName: expect.any(String) as unknown,
          credentialId: item.credentialId === null ? null : (expect.any(String) as unknown),
          action: expect.stringMatching(
            /^(disable-user|delete-user|deactivate-key|remove-password|notify)$/,
          ) as unknown,
          ruleIds: expect.arrayContaining([expect.stringMatching(/^DORMANT-AWS-00\d$/)]) as unknown,
          status: 'pending',
          notBefore: expect.any(String) as unknown,
        }),
      );
      expect(Date.parse(item.notBefore)).not.toBeNaN();
    }
    expect(itemsOf(p, name).map((i) => [i.action, i.identityId, i.credentialId])).toEqual([
      ['disable-user', `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/engineering/${name}`, null],
      ['delete-user', `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/engineering/${name}`, null],
    ]);
    expect(itemsOf(p, name)[0]!.ruleIds).toContain('DORMANT-AWS-001');
    expect(itemsOf(p, 'active-bob')).toEqual([]);
    expect(itemsOf(p, 'stale-carol').map((i) => i.action)).toEqual(['disable-user', 'delete-user']);

    // ---- approve only alice's items, then apply
    const approved = await approve(ws, p, [name], ['--by', 'alice', '--reason', 'left']);
    const applied = await dormant(ws, ['apply', p.id]);
    expect(applied.code, describeRun(applied)).toBe(0);
    expect(applied.stdout).toMatch(/2 done, 0 skipped, 0 failed/);

    // The user is gone, completely, with its virtual MFA device.
    expect(await userExists(name)).toBe(false);
    const virtual = await iam.send(new ListVirtualMFADevicesCommand({}));
    expect((virtual.VirtualMFADevices ?? []).map((d) => d.SerialNumber)).not.toContain(mfaSerial);
    // The others are untouched: carol was not approved, bob is active.
    const after = (await snapshot()) as Record<string, unknown>;
    expect(after['stale-carol']).toEqual(carolBefore);
    expect(await keyStatuses('stale-carol')).toEqual(['Active', 'Active']);
    expect(await hasLoginProfile('stale-carol')).toBe(true);
    expect(after['active-bob']).toEqual(bobBefore);

    // A backup was committed before the first change, and it is complete.
    const backups = await withStore(ws, (store) => listBackups(store.db));
    const mine = backups.filter((b) => b.identityName === name);
    expect(mine.length).toBeGreaterThanOrEqual(1);
    const first = { ...mine[0]!, data: (mine[0]!.envelope as BackupEnvelope<UserBackup>).data };
    expect(mine[0]!.envelope).toMatchObject({ provider: 'aws', kind: 'user', version: 1, identityName: name });
    expect(first.itemId).toBe(approved[0]);
    expect(first.data.user).toMatchObject({ name, path: '/engineering/' });
    expect(first.data.groups.sort()).toEqual(['analysts', 'engineers']);
    expect(first.data.attachedPolicies.map((a) => a.arn)).toEqual([policyArn]);
    expect(first.data.inlinePolicies.map((i) => [i.name, JSON.parse(i.document) as unknown])).toEqual([
      ['scratch-space', INLINE_DOCUMENT],
    ]);
    expect(first.data.loginProfile.exists).toBe(true);
    expect(first.data.accessKeys.map((k) => [k.id, k.status])).toEqual([
      [keys[0], 'Active'],
      [keys[1], 'Active'],
    ]);
    expect(first.data.mfaDevices.map((d) => d.serialNumber)).toEqual([mfaSerial]);
    expect(first.data.sshPublicKeys).toHaveLength(1);
    expect(first.data.signingCertificates).toHaveLength(1);
    const journal = await withStore(ws, (store) => journalFor(store.db, { planId: p.id }));
    const backupStep = journal.find((e) => e.step === 'backup' && e.itemId === approved[0]);
    expect(backupStep?.status).toBe('ok');
    const firstChange = journal.findIndex((e) => e.phase === 'intent' && !['recheck'].includes(e.step));
    expect(journal.indexOf(backupStep!)).toBeLessThan(firstChange);

    // ---- restore
    const restored = await dormant(ws, ['restore', name, '--by', 'alice']);
    expect(restored.code, describeRun(restored)).toBe(0);
    expect(await userExists(name)).toBe(true);
    const user = (await iam.send(new GetUserCommand({ UserName: name }))).User!;
    expect(user.Path).toBe('/engineering/');
    const tags = (await iam.send(new ListUserTagsCommand({ UserName: name }))).Tags ?? [];
    expect(Object.fromEntries(tags.map((t) => [t.Key, t.Value]))).toEqual({ team: 'data', owner: 'alice@example.com' });
    const groups = (await iam.send(new ListGroupsForUserCommand({ UserName: name }))).Groups ?? [];
    expect(groups.map((g) => g.GroupName).sort()).toEqual(['analysts', 'engineers']);
    const attached = (await iam.send(new ListAttachedUserPoliciesCommand({ UserName: name }))).AttachedPolicies ?? [];
    expect(attached.map((a) => a.PolicyArn)).toEqual([policyArn]);
    const inline = await iam.send(new GetUserPolicyCommand({ UserName: name, PolicyName: 'scratch-space' }));
    expect(parsePolicy(inline.PolicyDocument)).toEqual(INLINE_DOCUMENT);
    // What cannot come back is said plainly, on stdout.
    for (const key of keys) {
      expect(restored.stdout).toContain(`access key ${key} was deleted: its secret cannot come back`);
    }
    expect(restored.stdout).toMatch(
      new RegExp(`MFA device ${mfaSerial.replace(/[/.]/g, '\\$&')}[^\\n]*cannot come back`),
    );
    expect(restored.stdout).toMatch(/cannot restore: console password/);

    // ---- history: the plan, the approvals, the items done and when, and the restore
    const h = await historyJson(ws);
    expect(h.plans.map((x) => x.id)).toEqual([p.id]);
    const hp = h.plans[0]!;
    expect(hp.decisions.map((d) => [d.itemId, d.decision, d.by, d.reason])).toEqual(
      approved.map((id) => [id, 'approve', 'alice', 'left']),
    );
    for (const d of hp.decisions) expect(Date.parse(d.at)).not.toBeNaN();
    for (const id of approved) {
      expect(hp.items.find((i) => i.id === id)).toMatchObject({ status: 'done', decidedBy: 'alice' });
      const done = h.events.filter((e) => e.kind === 'item.done' && e.itemId === id);
      expect(done).toHaveLength(1);
      expect(Date.parse(done[0]!.at)).not.toBeNaN();
    }
    for (const i of itemsOf(p, 'stale-carol')) expect(hp.items.find((x) => x.id === i.id)?.status).toBe('pending');
    const restoreEvent = h.events.find((e) => e.kind === 'restore.done');
    expect(restoreEvent).toMatchObject({ actor: 'alice', detail: { user: name, backupId: first.id } });
    // The audit trail names the backups taken before the changes, so they can be found for restore.
    for (const b of mine) {
      expect(JSON.stringify(h), `history --format json names backup ${b.id} taken before ${b.itemId}`).toContain(b.id);
    }
  });

  it('staging: apply disables now; the delete waits deleteAfterDays; planning again adds nothing', async () => {
    const ws = await workspace('remediation:\n  deleteAfterDays: 30\n  maxActionsPercent: 100\n');
    await moto.seed({
      users: [
        stale('stale-frank', { keys: [{ createDate: ago(400), lastUsed: ago(300) }, { createDate: ago(400) }] }),
        active('active-gina'),
      ],
    });
    const p = await plan(ws);
    const [disable, del] = itemsOf(p, 'stale-frank');
    expect([disable?.action, del?.action]).toEqual(['disable-user', 'delete-user']);
    expect(Date.parse(del!.notBefore) - Date.parse(p.createdAt)).toBe(30 * DAY);
    await approveInStore(ws, p, ['stale-frank']);

    const before = Date.now();
    const applied = await dormant(ws, ['apply', p.id]);
    expect(applied.code, describeRun(applied)).toBe(0);
    expect(applied.stdout).toMatch(/1 done, 0 skipped, 0 failed, 1 waiting/);
    expect(applied.stdout).toMatch(/waiting: Delete user stale-frank[^\n]*not before/);

    // Disabled, not deleted.
    expect(await userExists('stale-frank')).toBe(true);
    expect(await keyStatuses('stale-frank')).toEqual(['Inactive', 'Inactive']);
    expect(await hasLoginProfile('stale-frank')).toBe(false);

    // The delete waits 30 days from when the disable was done.
    const h = await storedHistory(ws);
    const items = h.plans[0]!.items;
    expect(items.find((i) => i.id === disable!.id)?.status).toBe('done');
    const waiting = items.find((i) => i.id === del!.id)!;
    expect(waiting.status).toBe('approved');
    const doneAt = Date.parse(h.events.find((e) => e.kind === 'item.done' && e.itemId === disable!.id)!.at);
    expect(doneAt).toBeGreaterThanOrEqual(before - 1000);
    expect(Math.abs(Date.parse(waiting.notBefore) - (doneAt + 30 * DAY))).toBeLessThan(5_000);

    // A new plan does not plan the user again: it is already being retired.
    const next = await plan(ws);
    expect(itemsOf(next, 'stale-frank')).toEqual([]);
  });

  it('re-verification: a sign-in after the plan skips the item, with the reason, and changes nothing', async () => {
    const ws = await workspace(SAME_RUN);
    await moto.seed({ users: [stale('stale-hank'), active('active-ivy')] });
    const p = await plan(ws);
    const ids = await approveInStore(ws, p, ['stale-hank']);
    const before = await snapshot();

    // The user signs in to the console after the plan was made.
    // (AWS dates are whole seconds: make sure "now" is a later second than the plan.)
    while (Math.floor(Date.now() / 1000) * 1000 <= Date.parse(p.createdAt))
      await new Promise((r) => setTimeout(r, 100));
    await moto.backdate({ users: [{ name: 'stale-hank', passwordLastUsed: new Date() }] });

    const applied = await dormant(ws, ['apply', p.id]);
    expect(applied.code, describeRun(applied)).toBe(0);
    // The disable is skipped, and the delete behind it with it (nothing left waiting for it).
    expect(applied.stdout).toMatch(/0 done, 2 skipped, 0 failed, 0 waiting/);
    expect(applied.stdout).toMatch(/skipped: Disable user stale-hank[^\n]*(sign|activity)/i);
    expect(applied.stdout).toMatch(/skipped: Delete user stale-hank[^\n]*its disable-user \(item \d+\) was skipped/);
    expect(await snapshot()).toEqual(before);

    const h = await storedHistory(ws);
    const disable = h.plans[0]!.items.find((i) => i.id === ids[0])!;
    expect(disable.status).toBe('skipped');
    expect(disable.reason).toMatch(/activity after the plan/);
    expect(disable.reason).toMatch(/signed in/);
    const skipped = h.events.find((e) => e.kind === 'item.skipped' && e.itemId === ids[0]);
    expect(JSON.stringify(skipped?.detail)).toMatch(/signed in/);
    // The delete never ran: its disable was skipped, so it is skipped too (it would wait forever).
    expect(h.plans[0]!.items.find((i) => i.id === ids[1])!.status).toBe('skipped');
    expect(h.events.filter((e) => e.kind === 'item.done')).toEqual([]);
  });

  describe('guards refuse with exit 4, one line on stderr, and change nothing', () => {
    async function refused(ws: Workspace, args: string[], env?: Record<string, string>): Promise<string> {
      const before = await snapshot();
      const r = await dormant(ws, args, env);
      expect(r.code, describeRun(r)).toBe(4);
      expect(r.stderr.trim().split('\n'), describeRun(r)).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(await snapshot()).toEqual(before);
      return r.stderr;
    }

    async function statuses(ws: Workspace): Promise<string[]> {
      const h = await storedHistory(ws);
      return h.plans.flatMap((x) => x.items.map((i) => i.status));
    }

    it('an identity tagged dormant:exempt=true after the plan', async () => {
      const ws = await workspace(SAME_RUN);
      await moto.seed({ users: [stale('stale-jack'), active('active-kim')] });
      const p = await plan(ws);
      await approveInStore(ws, p, ['stale-jack']);
      await iam.send(new TagUserCommand({ UserName: 'stale-jack', Tags: [{ Key: 'dormant:exempt', Value: 'true' }] }));
      const err = await refused(ws, ['apply', p.id]);
      expect(err).toMatch(/stale-jack[^\n]*exempt[^\n]*dormant:exempt=true/);
      expect(await statuses(ws)).toEqual(['approved', 'approved']);
    });

    it('the identity dormant runs as', async () => {
      const ws = await workspace(SAME_RUN);
      const seeded = await moto.seed({ users: [stale('stale-lee'), active('active-mo')] });
      const key = seeded.users[0]!.keys[0]!;
      // moto answers GetCallerIdentity for a user's access key with that user.
      const sts = new STSClient({
        endpoint: moto.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: key, secretAccessKey: 'any' },
      });
      const me = await sts.send(new GetCallerIdentityCommand({}));
      sts.destroy();
      expect(me.Arn).toBe(`arn:aws:iam::${MOTO_ACCOUNT_ID}:user/stale-lee`);

      const p = await plan(ws);
      await approveInStore(ws, p, ['stale-lee']);
      const err = await refused(ws, ['apply', p.id], { AWS_ACCESS_KEY_ID: key, AWS_SECRET_ACCESS_KEY: 'any' });
      expect(err).toMatch(/stale-lee[^\n]*the identity dormant runs as/);
      expect(await statuses(ws)).toEqual(['approved', 'approved']);
    });

    it('more actions than maxActionsPercent of the inventory (default 10%)', async () => {
      const ws = await workspace('inactiveDays: 90\n');
      const users = [
        ...['a', 'b', 'c', 'd', 'e'].map((x) => stale(`stale-${x}`)),
        ...['f', 'g', 'h', 'i', 'j'].map((x) => active(`active-${x}`)),
      ];
      await moto.seed({ users });
      const p = await plan(ws);
      expect(new Set(p.items.map((i) => i.identityName)).size).toBe(5);
      await approveInStore(ws, p, 'all');
      const err = await refused(ws, ['apply', p.id]);
      expect(err).toMatch(/5 of 10 identities[^\n]*maxActionsPercent/);
      expect(new Set(await statuses(ws))).toEqual(new Set(['approved']));
    });

    it('--max-actions 1 with 2 actions due', async () => {
      const ws = await workspace(SAME_RUN);
      await moto.seed({ users: [stale('stale-nat'), active('active-oli')] });
      const p = await plan(ws);
      await approveInStore(ws, p, ['stale-nat']);
      const err = await refused(ws, ['apply', p.id, '--max-actions', '1']);
      expect(err).toMatch(/2 actions due[^\n]*limit of 1/);
      expect(await statuses(ws)).toEqual(['approved', 'approved']);
    });
  });

  it('deny --snooze 30 keeps the identity out of the next plan', async () => {
    const ws = await workspace(SAME_RUN);
    await moto.seed({ users: [stale('stale-pat'), stale('stale-quinn'), active('active-rui')] });
    const p = await plan(ws);
    const ids = itemsOf(p, 'stale-pat').map((i) => i.id);
    const out = await ok(ws, ['deny', p.id, ...ids, '--snooze', '30', '--by', 'bob', '--reason', 'on leave']);
    expect(out).toMatch(/denied: 1\. Disable user stale-pat/);

    const h = await storedHistory(ws);
    const decisions = h.plans[0]!.decisions;
    expect(decisions.map((d) => [d.decision, d.by, d.reason])).toEqual([
      ['deny', 'bob', 'on leave'],
      ['deny', 'bob', 'on leave'],
    ]);
    expect(Math.abs(Date.parse(decisions[0]!.snoozeUntil!) - (Date.now() + 30 * DAY))).toBeLessThan(60_000);

    const next = await plan(ws);
    expect(itemsOf(next, 'stale-pat')).toEqual([]);
    // stale-quinn's items are still open in the first plan: not planned twice either.
    expect(itemsOf(next, 'stale-quinn')).toEqual([]);
  });
});
