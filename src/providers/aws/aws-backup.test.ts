// A stored IAM user backup is checked on the way back in: a malformed one is refused with one
// line that names the wrong field, and a good one comes back as it went in.
import { describe, expect, it } from 'vitest';
import { DormantError } from '../../errors.js';
import type { BackupEnvelope } from '../../model/backup.js';
import { type UserBackup, readUserBackup, userBackupEnvelope } from './aws-backup.js';

const BACKUP: UserBackup = {
  version: 1,
  takenAt: '2026-11-22T10:00:00Z',
  account: '123456789012',
  user: {
    name: 'alice',
    arn: 'arn:aws:iam::123456789012:user/eng/alice',
    path: '/eng/',
    createdAt: '2024-01-01T00:00:00Z',
    permissionsBoundary: null,
    tags: [{ key: 'owner', value: 'alice@example.com' }],
  },
  groups: ['analysts'],
  attachedPolicies: [{ arn: 'arn:aws:iam::123456789012:policy/read', name: 'read' }],
  inlinePolicies: [{ name: 'scratch', document: '{"Version":"2012-10-17","Statement":[]}' }],
  loginProfile: { exists: true, createdAt: '2024-01-02T00:00:00Z', passwordResetRequired: false },
  accessKeys: [{ id: 'AKIAALICE00000000001', status: 'Active', createdAt: '2024-01-03T00:00:00Z' }],
  mfaDevices: [{ serialNumber: 'arn:aws:iam::123456789012:mfa/alice', enabledAt: null, virtual: true }],
  sshPublicKeys: [{ id: 'APKAALICE', status: 'Active', body: 'ssh-rsa AAAA alice' }],
  signingCertificates: [],
  serviceSpecificCredentials: [],
  warnings: [],
};

/** The error readUserBackup throws for this envelope. */
function refusal(envelope: unknown): DormantError {
  try {
    readUserBackup(envelope as BackupEnvelope<unknown>);
  } catch (err) {
    expect(err).toBeInstanceOf(DormantError);
    expect((err as DormantError).exitCode).toBe(3);
    expect((err as Error).message).not.toContain('\n');
    return err as DormantError;
  }
  throw new Error('expected readUserBackup to refuse the envelope');
}

describe('readUserBackup', () => {
  it('reads back what userBackupEnvelope wrote, through JSON as the store keeps it', () => {
    const envelope = userBackupEnvelope(BACKUP);
    expect(envelope).toMatchObject({
      provider: 'aws',
      kind: 'user',
      version: 1,
      takenAt: BACKUP.takenAt,
      account: '123456789012',
      identityId: BACKUP.user.arn,
      identityName: 'alice',
    });
    const stored = JSON.parse(JSON.stringify(envelope)) as BackupEnvelope<unknown>;
    expect(readUserBackup(stored)).toEqual(envelope);
  });

  it('refuses a malformed backup with one line naming the field', () => {
    const envelope = userBackupEnvelope(BACKUP);
    const userWithoutArn: Partial<UserBackup['user']> = { ...BACKUP.user };
    delete userWithoutArn.arn;
    expect(refusal({ ...envelope, data: { ...BACKUP, user: userWithoutArn } }).message).toMatch(
      /^cannot read the backup of alice: data\.user\.arn: /,
    );
    const badKey = { ...BACKUP, accessKeys: [{ ...BACKUP.accessKeys[0]!, status: 'Deleted' }] };
    expect(refusal({ ...envelope, data: badKey }).message).toMatch(/data\.accessKeys\[0\]\.status: /);
    expect(refusal({ ...envelope, data: { ...BACKUP, groups: 'analysts' } }).message).toMatch(/data\.groups: /);
    expect(refusal({ ...envelope, data: null }).message).toMatch(/: data: /);
  });

  it('refuses an envelope of another provider, kind or version', () => {
    const envelope = userBackupEnvelope(BACKUP);
    expect(refusal({ ...envelope, provider: 'entra' }).message).toBe(
      "cannot read the backup of alice: provider is 'entra', not 'aws'",
    );
    expect(refusal({ ...envelope, kind: 'role' }).message).toMatch(/kind is 'role'/);
    expect(refusal({ ...envelope, version: 2 }).message).toMatch(/version is 2; .*version 1/);
    expect(refusal(null).message).toMatch(/not a backup envelope/);
  });
});
