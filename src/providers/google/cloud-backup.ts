/**
 * The backup of a Google Cloud service account (version 1): the ServiceAccount resource and the
 * metadata of its user-managed keys, taken before the first change and validated with its schema
 * when read back. A key's private material is never in it: IAM gives it out only once, at creation.
 */
import { z } from 'zod';
import { CloudError } from '../../errors.js';
import type { BackupEnvelope } from '../../model/backup.js';
import { envelopeReader } from '../backup-envelope.js';
import type { IdentityRef } from '../provider.js';
import { accountResource, getServiceAccount, listUserManagedKeys } from './cloud-collect.js';
import { isUserManaged, keyIdOf } from './cloud-identity.js';
import type { GoogleContext } from './google-context.js';

export const CLOUD_BACKUP_VERSION = 1;

const nullableString = z.string().nullable();

export const cloudBackupDataSchema = z.strictObject({
  serviceAccount: z.strictObject({
    name: z.string().min(1),
    projectId: z.string().min(1),
    uniqueId: z.string().regex(/^\d+$/),
    email: z.string().min(3),
    displayName: nullableString,
    description: nullableString,
    oauth2ClientId: nullableString,
    disabled: z.boolean(),
    etag: nullableString,
  }),
  keys: z.array(
    z.strictObject({
      keyId: z.string().min(1),
      name: z.string().min(1),
      validAfterTime: z.string().min(1),
      validBeforeTime: nullableString,
      keyAlgorithm: nullableString,
      keyOrigin: nullableString,
      keyType: z.literal('USER_MANAGED'),
      disabled: z.boolean(),
    }),
  ),
});

export type CloudBackupData = z.infer<typeof cloudBackupDataSchema>;

/** Validates a stored envelope; a field that does not fit is named in one line (exit 3). */
export const readCloudBackup = envelopeReader<CloudBackupData>({
  provider: 'google',
  kinds: ['service-account'],
  version: CLOUD_BACKUP_VERSION,
  what: 'a Google service account backup',
  data: cloudBackupDataSchema,
});

/** A full snapshot of one service account, read live by unique id. */
export async function takeCloudBackup(
  ctx: GoogleContext,
  target: IdentityRef,
  now: Date,
): Promise<BackupEnvelope<CloudBackupData>> {
  const gone = () =>
    new CloudError(
      `Google Cloud service account ${target.name} (${target.id}) no longer exists; nothing to back up`,
      'NotFound',
    );
  const sa = await getServiceAccount(ctx, target.account, target.id);
  if (!sa) throw gone();
  const keys = await listUserManagedKeys(ctx, accountResource(target.account, sa.uniqueId));
  if (keys === null) throw gone();
  const data: CloudBackupData = {
    serviceAccount: {
      name: sa.name,
      projectId: sa.projectId,
      uniqueId: sa.uniqueId,
      email: sa.email,
      displayName: sa.displayName ?? null,
      description: sa.description ?? null,
      oauth2ClientId: sa.oauth2ClientId ?? null,
      disabled: sa.disabled === true,
      etag: sa.etag ?? null,
    },
    // Field by field, so nothing else the API might add (key material above all) is kept.
    keys: keys.filter(isUserManaged).map((k) => ({
      keyId: keyIdOf(k.name),
      name: k.name,
      validAfterTime: k.validAfterTime,
      validBeforeTime: k.validBeforeTime ?? null,
      keyAlgorithm: k.keyAlgorithm ?? null,
      keyOrigin: k.keyOrigin ?? null,
      keyType: 'USER_MANAGED' as const,
      disabled: k.disabled === true,
    })),
  };
  return {
    provider: 'google',
    kind: 'service-account',
    version: CLOUD_BACKUP_VERSION,
    takenAt: now.toISOString(),
    account: sa.projectId,
    identityId: sa.uniqueId,
    identityName: sa.email,
    data,
  };
}
