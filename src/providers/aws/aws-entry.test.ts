// The AWS registry entry: plan sentences in AWS's words, credential ids, the policy, and
// open(): the same flag checks as before, one set of clients, the file source for a report.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/config.js';
import { UsageError } from '../../errors.js';
import type { DescribeRequest } from '../provider.js';
import { awsEntry } from './aws-entry.js';
import { policyFor } from './aws-permissions.js';

const config = parseConfig({});
const describer = awsEntry.describer(config);
const user = { name: 'alice', kind: 'user' as const };
const REPORT = fileURLToPath(new URL('../../../test/fixtures/report-real.csv', import.meta.url));

function say(request: Partial<DescribeRequest> & Pick<DescribeRequest, 'action'>): string {
  return describer.describe({ identity: user, credential: null, reason: '', deleteAfterDays: null, ...request });
}

describe('awsEntry.describer', () => {
  it("says each action in today's words", () => {
    expect(say({ action: 'disable-user', reason: 'inactive 143 days' })).toBe(
      'Disable user alice: deactivate its access keys and remove its console password (inactive 143 days)',
    );
    expect(say({ action: 'delete-user', reason: 'never used', deleteAfterDays: 30 })).toBe(
      'Delete user alice completely after a backup, 30 days after it is disabled (never used)',
    );
    expect(say({ action: 'delete-user', reason: 'never used', deleteAfterDays: 0 })).toBe(
      'Delete user alice completely after a backup (never used)',
    );
    const key = { kind: 'access-key' as const, id: 'AKIACAROL00000000001' };
    expect(
      say({
        action: 'deactivate-key',
        identity: { name: 'carol', kind: 'user' },
        credential: key,
        reason: 'unused 143 days',
      }),
    ).toBe('Deactivate access key AKIACAROL00000000001 of carol (unused 143 days)');
    expect(
      say({ action: 'remove-password', identity: { name: 'erin', kind: 'user' }, reason: 'unused 143 days' }),
    ).toBe('Remove the console password of erin (unused 143 days)');
    expect(say({ action: 'notify', credential: key, reason: 'unrotated 200 days' })).toBe(
      'Notify: access key AKIACAROL00000000001 of alice is not rotated',
    );
  });

  it('follows remediation.disableUser', () => {
    const quarantine = awsEntry.describer(
      parseConfig({
        remediation: { disableUser: ['quarantine'], quarantinePolicyArn: 'arn:aws:iam::123456789012:policy/deny' },
      }),
    );
    expect(
      quarantine.describe({
        action: 'disable-user',
        identity: user,
        credential: null,
        reason: 'inactive 99 days',
        deleteAfterDays: null,
      }),
    ).toBe('Disable user alice: attach the quarantine policy (inactive 99 days)');
  });

  it('knows a key id from a report slot, and calls nothing irreversible', () => {
    expect(describer.isCredentialId('AKIACAROL00000000001')).toBe(true);
    expect(describer.isCredentialId('access_key_1')).toBe(false);
    for (const action of ['disable-user', 'delete-user', 'deactivate-key', 'remove-password', 'notify'] as const) {
      expect(describer.irreversible(action, 'user')).toBe(false);
    }
  });
});

describe('awsEntry', () => {
  it('is always enabled and prints the policy of each mode', () => {
    expect(awsEntry.enabled(config)).toBe(true);
    expect(awsEntry.permissions('scan', config).document).toEqual(policyFor('scan'));
    expect(awsEntry.permissions('remediate', config).document).toEqual(policyFor('remediate'));
  });

  it('open() checks the source flags with the same messages as before', async () => {
    await expect(awsEntry.open({ config, source: 'csv' })).rejects.toThrow(
      new UsageError("--source must be auto, report or api, got 'csv'"),
    );
    await expect(awsEntry.open({ config, source: 'api', fromReport: REPORT })).rejects.toThrow(
      new UsageError('--from-report reads a file; it cannot be combined with --source api'),
    );
  });

  it('open() reads an exported report offline, and still offers AWS remediation', async () => {
    const session = await awsEntry.open({ config, fromReport: REPORT, source: 'report' });
    try {
      expect(session.name).toBe('aws');
      expect(session.scanner.name).toBe('file');
      expect(session.remediation.provider).toBe('aws');
      const inventory = await session.scanner.collect();
      expect(inventory.identities.length).toBeGreaterThan(0);
      expect(session.calls()).toBeNull();
    } finally {
      session.close();
    }
  });

  it('open() builds the AWS scanner from aws.source', async () => {
    const session = await awsEntry.open({ config: parseConfig({ aws: { source: 'api' } }) });
    try {
      expect(session.scanner.name).toBe('aws');
      expect(session.calls()).toBe('0 IAM calls ()');
    } finally {
      session.close();
    }
  });
});
