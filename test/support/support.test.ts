// Proves the test harness works with the real AWS SDK v3: moto with seeded and
// backdated IAM state (moto.ts), and the fault proxy in front of it
// (faultProxy.ts): real ListUsers pagination, canned errors, resets, latency.
import {
  GenerateCredentialReportCommand,
  GetAccessKeyLastUsedCommand,
  GetCredentialReportCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUsersCommand,
  ListUserTagsCommand,
  paginateListUsers,
} from '@aws-sdk/client-iam';
import type { User } from '@aws-sdk/client-iam';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFaultProxy } from './faultProxy.js';
import type { FaultProxy, FaultProxyOptions } from './faultProxy.js';
import { awsTestEnv, MOTO_ACCOUNT_ID, startMoto } from './moto.js';
import type { MotoServer } from './moto.js';

function client(endpoint: string, maxAttempts?: number): IAMClient {
  const env = awsTestEnv(endpoint);
  return new IAMClient({
    endpoint: env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
  });
}

/** Parses moto's credential report (no quoting needed: no field has a comma). */
function parseReport(csv: string): Map<string, Record<string, string>> {
  const [header, ...rows] = csv.trim().split('\n');
  const columns = (header ?? '').split(',');
  const byUser = new Map<string, Record<string, string>>();
  for (const row of rows) {
    const cells = row.split(',');
    const record: Record<string, string> = {};
    columns.forEach((c, i) => (record[c] = cells[i] ?? ''));
    byUser.set(record['user'] ?? '', record);
  }
  return byUser;
}

async function credentialReport(iam: IAMClient): Promise<Map<string, Record<string, string>>> {
  for (let i = 0; i < 10; i++) {
    const { State } = await iam.send(new GenerateCredentialReportCommand({}));
    if (State === 'COMPLETE') break;
  }
  const { Content } = await iam.send(new GetCredentialReportCommand({}));
  expect(Content).toBeDefined();
  return parseReport(Buffer.from(Content ?? new Uint8Array()).toString('utf8'));
}

function byName(users: User[] | undefined): Map<string, User> {
  return new Map((users ?? []).map((u) => [u.UserName ?? '', u]));
}

let moto: MotoServer;

beforeAll(async () => {
  moto = await startMoto();
});

afterAll(async () => {
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
});

describe('startMoto', () => {
  it('reports endpoints and the environment for the SDK', () => {
    expect(moto.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(moto.control).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(awsTestEnv(moto.endpoint)).toEqual({
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: moto.endpoint,
    });
  });

  it('seeds users whose backdated dates moto reports to the second', async () => {
    const seeded = await moto.seed({
      users: [
        {
          name: 'alice',
          createDate: '2021-03-04T05:06:07Z',
          password: true,
          passwordLastUsed: '2023-01-02T03:04:05Z',
          tags: { team: 'payments', owner: 'alice@example.com' },
          keys: [
            {
              createDate: '2021-04-05T06:07:08Z',
              lastUsed: '2023-06-07T08:09:10Z',
              service: 's3',
              region: 'eu-west-1',
            },
            { createDate: '2022-01-01T00:00:00Z', status: 'Inactive' },
          ],
        },
        // A password that was never used.
        { name: 'bob', createDate: '2019-12-31T23:59:59Z', password: true },
        {
          name: 'carol',
          path: '/eng/',
          // A Date works too; fractions of a second are dropped, like AWS.
          createDate: new Date('2020-02-29T12:00:00.999Z'),
          // Offsets are converted to UTC.
          keys: [{ createDate: '2020-06-01T10:00:00+02:00', lastUsed: null }],
        },
      ],
    });

    expect(seeded.users.map((u) => u.name)).toEqual(['alice', 'bob', 'carol']);
    expect(seeded.users.map((u) => u.keys.length)).toEqual([2, 0, 1]);
    expect(seeded.users[2]?.arn).toBe(`arn:aws:iam::${MOTO_ACCOUNT_ID}:user/eng/carol`);
    for (const u of seeded.users) for (const k of u.keys) expect(k).toMatch(/^AKIA[A-Z0-9]{16}$/);
    const [alice, , carol] = seeded.users;
    const [aliceKey1, aliceKey2] = alice?.keys ?? [];
    const carolKey = carol?.keys[0];
    if (!aliceKey1 || !aliceKey2 || !carolKey) throw new Error('seed returned no key ids');

    const iam = client(moto.endpoint);

    const users = byName((await iam.send(new ListUsersCommand({}))).Users);
    expect([...users.keys()]).toEqual(['alice', 'bob', 'carol']);
    expect(users.get('alice')?.CreateDate?.toISOString()).toBe('2021-03-04T05:06:07.000Z');
    expect(users.get('alice')?.PasswordLastUsed?.toISOString()).toBe('2023-01-02T03:04:05.000Z');
    expect(users.get('bob')?.CreateDate?.toISOString()).toBe('2019-12-31T23:59:59.000Z');
    expect(users.get('bob')?.PasswordLastUsed).toBeUndefined();
    expect(users.get('carol')?.CreateDate?.toISOString()).toBe('2020-02-29T12:00:00.000Z');
    expect(users.get('carol')?.Path).toBe('/eng/');

    const tags = await iam.send(new ListUserTagsCommand({ UserName: 'alice' }));
    expect(tags.Tags).toEqual([
      { Key: 'team', Value: 'payments' },
      { Key: 'owner', Value: 'alice@example.com' },
    ]);

    const keys = await iam.send(new ListAccessKeysCommand({ UserName: 'alice' }));
    expect(keys.AccessKeyMetadata?.map((k) => [k.AccessKeyId, k.Status, k.CreateDate?.toISOString()])).toEqual([
      [aliceKey1, 'Active', '2021-04-05T06:07:08.000Z'],
      [aliceKey2, 'Inactive', '2022-01-01T00:00:00.000Z'],
    ]);

    const used = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: aliceKey1 }));
    expect(used.UserName).toBe('alice');
    expect(used.AccessKeyLastUsed?.LastUsedDate?.toISOString()).toBe('2023-06-07T08:09:10.000Z');
    expect(used.AccessKeyLastUsed?.ServiceName).toBe('s3');
    expect(used.AccessKeyLastUsed?.Region).toBe('eu-west-1');

    const unused = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: carolKey }));
    expect(unused.AccessKeyLastUsed?.LastUsedDate).toBeUndefined();
    expect(unused.AccessKeyLastUsed?.ServiceName).toBe('N/A');
    expect(unused.AccessKeyLastUsed?.Region).toBe('N/A');

    const report = await credentialReport(iam);
    expect([...report.keys()]).toEqual(['alice', 'bob', 'carol']);
    expect(report.get('alice')).toMatchObject({
      arn: `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/alice`,
      user_creation_time: '2021-03-04T05:06:07+00:00',
      password_enabled: 'true',
      password_last_used: '2023-01-02T03:04:05+00:00',
      // moto quirk: the password "changed" when the user was created.
      password_last_changed: '2021-03-04T05:06:07+00:00',
      access_key_1_active: 'true',
      access_key_1_last_rotated: '2021-04-05T06:07:08+00:00',
      access_key_1_last_used_date: '2023-06-07T08:09:10+00:00',
      // moto quirk: never the real region/service.
      access_key_1_last_used_region: 'not_supported',
      access_key_2_active: 'false',
      access_key_2_last_rotated: '2022-01-01T00:00:00+00:00',
      access_key_2_last_used_date: 'N/A',
    });
    expect(report.get('bob')).toMatchObject({
      user_creation_time: '2019-12-31T23:59:59+00:00',
      password_enabled: 'true',
      password_last_used: 'no_information',
      access_key_1_active: 'false',
      access_key_1_last_rotated: 'N/A',
    });
    expect(report.get('carol')).toMatchObject({
      user_creation_time: '2020-02-29T12:00:00+00:00',
      password_enabled: 'false',
      password_last_used: 'not_supported',
      access_key_1_active: 'true',
      access_key_1_last_rotated: '2020-06-01T08:00:00+00:00',
      access_key_1_last_used_date: 'N/A',
    });
  });

  it('backdates existing users and keys, and clears last use with null', async () => {
    const seeded = await moto.seed({ users: [{ name: 'dave', password: true, keys: [{}] }] });
    const keyId = seeded.users[0]?.keys[0];
    if (!keyId) throw new Error('no key id');
    const iam = client(moto.endpoint);

    await moto.backdate({
      users: [
        {
          name: 'dave',
          createDate: '2018-07-08T09:10:11Z',
          passwordLastUsed: '2019-01-01T01:01:01Z',
          keys: [
            {
              id: keyId,
              createDate: '2018-08-09T10:11:12Z',
              lastUsed: '2019-02-03T04:05:06Z',
              service: 'ec2',
              region: 'ap-south-1',
            },
          ],
        },
      ],
    });
    const { User: dave } = await iam.send(new GetUserCommand({ UserName: 'dave' }));
    expect(dave?.CreateDate?.toISOString()).toBe('2018-07-08T09:10:11.000Z');
    expect(dave?.PasswordLastUsed?.toISOString()).toBe('2019-01-01T01:01:01.000Z');
    const used = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: keyId }));
    expect(used.AccessKeyLastUsed).toMatchObject({ ServiceName: 'ec2', Region: 'ap-south-1' });
    expect(used.AccessKeyLastUsed?.LastUsedDate?.toISOString()).toBe('2019-02-03T04:05:06.000Z');
    let report = await credentialReport(iam);
    expect(report.get('dave')).toMatchObject({
      user_creation_time: '2018-07-08T09:10:11+00:00',
      password_last_used: '2019-01-01T01:01:01+00:00',
      access_key_1_last_rotated: '2018-08-09T10:11:12+00:00',
      access_key_1_last_used_date: '2019-02-03T04:05:06+00:00',
    });

    await moto.backdate({
      users: [{ name: 'dave', passwordLastUsed: null, keys: [{ id: keyId, lastUsed: null }] }],
    });
    const cleared = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: keyId }));
    expect(cleared.AccessKeyLastUsed?.LastUsedDate).toBeUndefined();
    report = await credentialReport(iam);
    expect(report.get('dave')).toMatchObject({
      user_creation_time: '2018-07-08T09:10:11+00:00',
      password_last_used: 'no_information',
      access_key_1_last_used_date: 'N/A',
    });
  });

  it('rejects bad control requests without changing anything', async () => {
    await moto.seed({ users: [{ name: 'erin' }] });
    await expect(moto.seed({ users: [{ name: 'frank' }, { name: 'erin' }] })).rejects.toThrow(
      /HTTP 400: .*erin already exists/,
    );
    await expect(moto.seed({ users: [{ name: 'gina', keys: [{ lastUsed: 'yesterday' }] }] })).rejects.toThrow(
      /not an ISO 8601 timestamp/,
    );
    await expect(moto.backdate({ users: [{ name: 'erin', keys: [{ id: 'AKIANOPE' }] }] })).rejects.toThrow(
      /has no access key AKIANOPE/,
    );
    await expect(moto.backdate({ users: [{ name: 'nobody' }] })).rejects.toThrow(/no such user/);

    const { Users } = await client(moto.endpoint).send(new ListUsersCommand({}));
    expect(Users?.map((u) => u.UserName)).toEqual(['erin']);
  });

  it('keeps moto errors for keys that do not exist (fast key lookup falls back)', async () => {
    const seeded = await moto.seed({ users: [{ name: 'gus', keys: [{}] }] });
    const iam = client(moto.endpoint);
    await expect(
      iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: 'AKIAIOSFODNN7EXAMPLE' })),
    ).rejects.toMatchObject({ name: 'NoSuchEntityException' });
    const keyId = seeded.users[0]?.keys[0] ?? '';
    const found = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: keyId }));
    expect(found.UserName).toBe('gus');
  });

  it('reset clears all IAM state', async () => {
    await moto.seed({ users: [{ name: 'henry', keys: [{}] }] });
    await moto.reset();
    const { Users } = await client(moto.endpoint).send(new ListUsersCommand({}));
    expect(Users ?? []).toEqual([]);
  });
});

describe('startFaultProxy', () => {
  let proxy: FaultProxy | undefined;
  const withProxy = async (options?: FaultProxyOptions): Promise<FaultProxy> => {
    proxy = await startFaultProxy(moto.endpoint, options);
    return proxy;
  };

  afterEach(async () => {
    await proxy?.stop();
    proxy = undefined;
  });

  it('paginates ListUsers for real: 7 of 7 users in pages of 2', async () => {
    const names = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7'];
    await moto.seed({ users: names.map((name) => ({ name })) });
    const p = await withProxy({ pageSize: 2 });
    const iam = client(p.url);

    const seen: string[] = [];
    const pageSizes: number[] = [];
    for await (const page of paginateListUsers({ client: iam }, {})) {
      pageSizes.push(page.Users?.length ?? 0);
      for (const u of page.Users ?? []) seen.push(u.UserName ?? '');
    }
    expect(seen).toEqual(names);
    expect(pageSizes).toEqual([2, 2, 2, 1]);

    const lists = p.requests.filter((r) => r.action === 'ListUsers');
    expect(lists.length).toBeGreaterThanOrEqual(4);
    expect(lists[0]?.params.has('Marker')).toBe(false);
    for (const r of lists.slice(1)) expect(r.params.get('Marker')).toBeTruthy();
  });

  it('honours a smaller MaxItems and marks the last page as complete', async () => {
    await moto.seed({ users: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] });
    const p = await withProxy({ pageSize: 2 });
    const iam = client(p.url);

    const first = await iam.send(new ListUsersCommand({ MaxItems: 1 }));
    expect(first.Users?.map((u) => u.UserName)).toEqual(['a']);
    expect(first.IsTruncated).toBe(true);
    expect(first.Marker).toBeTruthy();

    const rest = await iam.send(new ListUsersCommand({ Marker: first.Marker }));
    expect(rest.Users?.map((u) => u.UserName)).toEqual(['b', 'c']);
    expect(rest.IsTruncated).toBe(false);
    expect(rest.Marker).toBeUndefined();

    await expect(iam.send(new ListUsersCommand({ Marker: 'forged' }))).rejects.toMatchObject({
      name: 'ValidationError',
    });
  });

  it('forwards everything else untouched and records it', async () => {
    await moto.seed({ users: [{ name: 'ivan' }] });
    const p = await withProxy();
    const { User } = await client(p.url).send(new GetUserCommand({ UserName: 'ivan' }));
    expect(User?.Arn).toBe(`arn:aws:iam::${MOTO_ACCOUNT_ID}:user/ivan`);
    expect(p.requests).toHaveLength(1);
    expect(p.requests[0]?.action).toBe('GetUser');
    expect(p.requests[0]?.params.get('UserName')).toBe('ivan');
    expect(p.requests[0]?.params.get('Version')).toBe('2010-05-08');
  });

  it('replies with a canned Throttling error', async () => {
    await moto.seed({ users: [{ name: 'judy' }] });
    const attempts: number[] = [];
    const p = await withProxy({
      onRequest: ({ action, attempt }) => {
        if (action !== 'GetUser') return undefined;
        attempts.push(attempt);
        return attempt === 1 ? { status: 400, code: 'Throttling', message: 'Rate exceeded' } : undefined;
      },
    });

    const error: unknown = await client(p.url, 1)
      .send(new GetUserCommand({ UserName: 'judy' }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'Throttling',
      message: 'Rate exceeded',
      $metadata: { httpStatusCode: 400 },
    });

    // Attempt 2 passes through.
    const { User } = await client(p.url, 1).send(new GetUserCommand({ UserName: 'judy' }));
    expect(User?.UserName).toBe('judy');
    expect(attempts).toEqual([1, 2]);
  });

  it('lets the SDK retry past throttling and 5xx replies', async () => {
    await moto.seed({ users: [{ name: 'kim' }] });
    const p = await withProxy({
      onRequest: ({ attempt }) => {
        if (attempt === 1) return { status: 400, code: 'Throttling', message: 'Rate exceeded' };
        if (attempt === 2) return { status: 503, code: 'ServiceUnavailable', message: 'Try later' };
        return undefined;
      },
    });
    const { User } = await client(p.url, 3).send(new GetUserCommand({ UserName: 'kim' }));
    expect(User?.UserName).toBe('kim');
    expect(p.requests.map((r) => r.action)).toEqual(['GetUser', 'GetUser', 'GetUser']);
  });

  it('drops the connection', async () => {
    await moto.seed({ users: [{ name: 'leo' }] });
    const p = await withProxy({
      onRequest: ({ attempt }) => (attempt === 1 ? { drop: true } : undefined),
    });

    const error: unknown = await client(p.url, 1)
      .send(new GetUserCommand({ UserName: 'leo' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: 'ECONNRESET' });
    expect(error).not.toHaveProperty('$metadata.httpStatusCode');

    // The SDK treats a reset as transient and retries.
    const { User } = await client(p.url, 3).send(new GetUserCommand({ UserName: 'leo' }));
    expect(User?.UserName).toBe('leo');
    expect(p.requests).toHaveLength(2);
  });

  it('adds latency before forwarding', async () => {
    await moto.seed({ users: [{ name: 'mia' }] });
    const p = await withProxy({ onRequest: () => ({ delayMs: 300 }) });
    const started = performance.now();
    const { User } = await client(p.url, 1).send(new GetUserCommand({ UserName: 'mia' }));
    expect(User?.UserName).toBe('mia');
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });
});
