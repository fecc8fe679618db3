/**
 * Credentials for a member account of the Organization (DESIGN §8): sts:AssumeRole into
 * `arn:aws:iam::ACCOUNT:role/ROLE` with the caller's own credentials, renewed before they
 * expire (a scan or an apply of a big account can outlive one session).
 */
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { CloudError } from '../../errors.js';
import type { AwsClients } from './aws-client.js';
import { errorName, isAccessDenied, toCloudError } from './aws-errors.js';

export interface AssumeSettings {
  roleName: string;
  externalId: string | null;
  /** Session length asked for; AWS caps it at the role's MaxSessionDuration (default 1 hour). */
  durationSeconds?: number;
}

/** Renew this long before expiry, so no call is signed with credentials about to lapse. */
const RENEW_BEFORE_MS = 5 * 60_000;
const SESSION_NAME = 'dormant';

export function memberRoleArn(account: string, roleName: string): string {
  return `arn:aws:iam::${account}:role/${roleName}`;
}

/** One line for a refused AssumeRole: which account and role, and the three things to check. */
export function assumeRoleError(err: unknown, account: string, settings: AssumeSettings, base: AwsClients): CloudError {
  const arn = memberRoleArn(account, settings.roleName);
  if (isAccessDenied(err)) {
    return new CloudError(
      `AWS denied sts:AssumeRole into ${arn} (AccessDenied); check that the role exists in account ${account}, trusts the management account${settings.externalId ? ' and expects the external id aws.organization.externalId names' : ''}, or set aws.organization.roleName`,
      'AccessDenied',
    );
  }
  if (errorName(err) === 'RegionDisabledException') {
    return new CloudError(
      `STS is not enabled in ${base.settings.region} for account ${account}; enable the region or set aws.region`,
      'RegionDisabled',
    );
  }
  return toCloudError(err, `sts:AssumeRole into ${arn}`, base.settings);
}

/**
 * A credential provider the SDK calls before each request: it answers from its copy until five
 * minutes before expiry, then assumes the role again (one call in flight at a time).
 */
export function assumedRoleCredentials(
  base: AwsClients,
  account: string,
  settings: AssumeSettings,
  now: () => number = Date.now,
): AwsCredentialIdentityProvider {
  let current: AwsCredentialIdentity | null = null;
  let pending: Promise<AwsCredentialIdentity> | null = null;
  const assume = async (): Promise<AwsCredentialIdentity> => {
    try {
      const out = await base.sts.send(
        new AssumeRoleCommand({
          RoleArn: memberRoleArn(account, settings.roleName),
          RoleSessionName: SESSION_NAME,
          DurationSeconds: settings.durationSeconds ?? 3600,
          ...(settings.externalId ? { ExternalId: settings.externalId } : {}),
        }),
      );
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) {
        throw new CloudError(`sts:AssumeRole into account ${account} returned no credentials; retry`, 'NoCredentials');
      }
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
        ...(c.Expiration ? { expiration: new Date(c.Expiration) } : {}),
      };
    } catch (err) {
      if (err instanceof CloudError) throw err;
      throw assumeRoleError(err, account, settings, base);
    }
  };
  return async () => {
    const fresh = current && (!current.expiration || current.expiration.getTime() - now() > RENEW_BEFORE_MS);
    if (fresh) return current!;
    pending ??= assume().finally(() => {
      pending = null;
    });
    current = await pending;
    return current;
  };
}
