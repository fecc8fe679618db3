import { describe, expect, it } from 'vitest';
import { CloudError } from '../../errors.js';
import type { AwsClients } from './aws-client.js';
import { assumedRoleCredentials } from './aws-assume.js';

/** A stand-in for the STS client: records AssumeRole inputs and answers sessions of one hour. */
function fakeBase(clock: { now: number }, fail?: Error) {
  const inputs: Record<string, unknown>[] = [];
  const base = {
    settings: {
      region: 'us-east-1',
      endpointUrl: null,
      profile: null,
      maxAttempts: 1,
      retryMode: 'standard',
      concurrency: 1,
    },
    sts: {
      send(command: { input: Record<string, unknown> }) {
        inputs.push(command.input);
        if (fail) return Promise.reject(fail);
        const n = inputs.length;
        return Promise.resolve({
          Credentials: {
            AccessKeyId: `ASIA${n}`,
            SecretAccessKey: 'secret',
            SessionToken: 'token',
            Expiration: new Date(clock.now + 3600_000),
          },
        });
      },
    },
  } as unknown as AwsClients;
  return { base, inputs };
}

describe('assumedRoleCredentials', () => {
  it('assumes the member role once, reuses the session, and renews it five minutes before it expires', async () => {
    const clock = { now: Date.parse('2026-12-02T10:00:00Z') };
    const { base, inputs } = fakeBase(clock);
    const provider = assumedRoleCredentials(
      base,
      '222222222222',
      { roleName: 'Audit', externalId: 'xid-1' },
      () => clock.now,
    );
    const [a, b] = await Promise.all([provider(), provider()]);
    expect(a.accessKeyId).toBe('ASIA1');
    expect(b.accessKeyId).toBe('ASIA1');
    expect(inputs).toEqual([
      {
        RoleArn: 'arn:aws:iam::222222222222:role/Audit',
        RoleSessionName: 'dormant',
        DurationSeconds: 3600,
        ExternalId: 'xid-1',
      },
    ]);
    clock.now += 54 * 60_000;
    expect((await provider()).accessKeyId).toBe('ASIA1');
    clock.now += 2 * 60_000; // 4 minutes left: renew
    expect((await provider()).accessKeyId).toBe('ASIA2');
    expect(inputs).toHaveLength(2);
  });

  it('turns a refused AssumeRole into one line naming the account, the role and what to check', async () => {
    const clock = { now: Date.now() };
    const denied = Object.assign(new Error('User: arn:aws:iam::111111111111:user/admin is not authorized'), {
      name: 'AccessDenied',
    });
    const { base } = fakeBase(clock, denied);
    const err = await assumedRoleCredentials(base, '333333333333', { roleName: 'Audit', externalId: null })().catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CloudError);
    expect((err as CloudError).message).toBe(
      'AWS denied sts:AssumeRole into arn:aws:iam::333333333333:role/Audit (AccessDenied); check that the role exists in account 333333333333, trusts the management account, or set aws.organization.roleName',
    );
    expect((err as CloudError).message).not.toContain('admin');
  });
});
