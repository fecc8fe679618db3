/**
 * Reading a stored backup envelope back with a provider's own schema for `data` (DESIGN §1):
 * the provider, kinds and version must be its own, and a field that does not fit is named in
 * one line. Exit 3, as a stored backup (not the command line) is what is wrong.
 */
import { z } from 'zod';
import { CloudError } from '../errors.js';
import type { BackupEnvelope } from '../model/backup.js';
import type { IdentityKind, ProviderName } from '../model/identity.js';

export interface EnvelopeSpec<T> {
  provider: ProviderName;
  kinds: readonly [IdentityKind, ...IdentityKind[]];
  version: number;
  /** For the message: "an Entra backup", "a Google service account backup". */
  what: string;
  data: z.ZodType<T>;
}

export function envelopeReader<T>(spec: EnvelopeSpec<T>): (envelope: BackupEnvelope<unknown>) => BackupEnvelope<T> {
  const schema = z.object({
    provider: z.literal(spec.provider),
    kind: z.enum(spec.kinds),
    version: z.literal(spec.version),
    takenAt: z.string().min(1),
    account: z.string().min(1),
    identityId: z.string().min(1),
    identityName: z.string().min(1),
    data: spec.data,
  });
  return (envelope) => {
    const result = schema.safeParse(envelope);
    if (result.success) return result.data as BackupEnvelope<T>;
    const issue = result.error.issues[0];
    const field = issue ? issue.path.map(String).join('.') : '';
    const name =
      typeof envelope?.identityName === 'string' && envelope.identityName ? envelope.identityName : 'an identity';
    throw new CloudError(
      `cannot read the backup of ${name}: ${field || 'envelope'}: ${issue?.message ?? 'unexpected shape'} (not ${spec.what} of version ${spec.version}); it cannot be restored automatically`,
      'UnreadableBackup',
    );
  };
}
