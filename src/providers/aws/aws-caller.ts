/**
 * The identities dormant must never act on (DESIGN §4.7): the principal it runs as
 * (sts:GetCallerIdentity) and the account's root user. They are marked here, by the provider;
 * the engine refuses anything marked without knowing why.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { Caller, Identity } from '../../model/identity.js';
import type { AwsClients } from './aws-client.js';
import { ROOT_ROW } from './aws-credential-report.js';
import { toCloudError } from './aws-errors.js';

export const CALLER_REASON = 'the identity dormant runs as';
export const ROOT_REASON = 'the root user';

/** sts:GetCallerIdentity (needs no permission). */
export async function readCaller(aws: Pick<AwsClients, 'sts' | 'settings'>): Promise<Caller> {
  try {
    const out = await aws.sts.send(new GetCallerIdentityCommand({}));
    return { arn: out.Arn ?? '', account: out.Account ?? '' };
  } catch (err) {
    throw toCloudError(err, 'sts:GetCallerIdentity', aws.settings);
  }
}

/**
 * The IAM user name a caller ARN stands for: the user of `…:user/path/NAME`, or the session
 * of `…:assumed-role/ROLE/NAME` (a person who assumed a role under their own user name).
 */
function callerUserName(arn: string): string | null {
  const m = /:user\/(?:.*\/)?([^/]+)$/.exec(arn) ?? /:assumed-role\/[^/]+\/([^/]+)$/.exec(arn);
  return m ? m[1]! : null;
}

/** The IAM role a caller ARN runs as: ROLE of `…:assumed-role/ROLE/SESSION`. */
function callerRoleName(arn: string): string | null {
  const m = /:assumed-role\/([^/]+)\/[^/]+$/.exec(arn);
  return m ? m[1]! : null;
}

export function isCallerIdentity(
  identity: Pick<Identity, 'id' | 'name'> & { kind?: Identity['kind'] },
  caller: Caller | null,
): boolean {
  if (!caller?.arn) return false;
  // A role is the caller when dormant runs in one of its sessions; a session's name is a user's, not a role's.
  if (identity.kind === 'role') return identity.id === caller.arn || callerRoleName(caller.arn) === identity.name;
  return identity.id === caller.arn || callerUserName(caller.arn) === identity.name;
}

export function isRootIdentity(identity: Pick<Identity, 'id' | 'name'>): boolean {
  return /:root$/.test(identity.id) || identity.name === ROOT_ROW;
}

/** Set `isCaller` and `protectedReason` on an identity that is the caller or the root. */
export function markProtected(identity: Identity, caller: Caller | null): void {
  if (isCallerIdentity(identity, caller)) {
    identity.isCaller = true;
    identity.protectedReason = CALLER_REASON;
  } else if (isRootIdentity(identity)) {
    identity.protectedReason = ROOT_REASON;
  }
}
