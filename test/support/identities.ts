// Builders for the identities and credentials tests work on: the model's Identity, Credential,
// Finding and ScanResult for in-process tests (an AWS IAM user in one account unless a test
// says otherwise), the users a test seeds into moto, and real-format SSH keys and signing
// certificates to attach to them.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import type { Finding, ScanResult, ScannedIdentity } from '../../src/model/finding.js';
import type { Credential, Identity } from '../../src/model/identity.js';
import type { SeedUser } from './moto.js';

export const TEST_ACCOUNT = '123456789012';
const DAY_MS = 86_400_000;

// ------------------------------------------------------------------ the model

/** The ARN of an IAM user. */
export function userArn(name: string, path = '/', account = TEST_ACCOUNT): string {
  return `arn:aws:iam::${account}:user${path}${name}`;
}

/** An IAM user as the AWS provider reads it: in TEST_ACCOUNT, under '/', no credentials, unless `extra` says otherwise. */
export function awsUser(name: string, createdAt: string | null, extra: Partial<Identity> = {}): Identity {
  const path = extra.path ?? '/';
  const account = extra.account ?? TEST_ACCOUNT;
  return {
    provider: 'aws',
    account,
    kind: 'user',
    id: userArn(name, path, account),
    name,
    path,
    createdAt,
    credentials: [],
    ...extra,
  };
}

type CredentialFields = Partial<Credential> & Pick<Credential, 'createdAt' | 'lastUse' | 'lastUsedAt'>;

/** An access key, named by neither id nor handle unless given; enabled while its status is Active. */
export function accessKey(fields: CredentialFields): Credential {
  const status = fields.status ?? 'Active';
  return { kind: 'access-key', id: null, status, enabled: status === 'Active', ...fields };
}

/** A console password, enabled. */
export function password(fields: CredentialFields): Credential {
  return { kind: 'password', id: null, status: 'enabled', enabled: true, ...fields };
}

/** An identity as a scan leaves it: inactive, no activity and not exempt unless `extra` says otherwise. */
export function scanned(identity: Identity, extra: Partial<ScannedIdentity> = {}): ScannedIdentity {
  return { ...identity, lastActivityAt: null, state: 'inactive', exemptReason: null, ...extra };
}

/** A finding of `ruleId` on the IAM user `name` in TEST_ACCOUNT; its id is `RULE-NAME-CREDENTIAL`. */
export function awsFinding(name: string, ruleId: string, extra: Partial<Finding> = {}): Finding {
  const credentialId = extra.credentialId ?? null;
  return {
    id: `${ruleId}-${name}-${credentialId ?? ''}`,
    provider: 'aws',
    ruleId,
    rule: ruleId,
    severity: 'medium',
    identityId: userArn(name),
    identityName: name,
    account: TEST_ACCOUNT,
    credentialId,
    message: `${name}: ${ruleId}`,
    lastActivityAt: null,
    daysSinceActivity: null,
    compliance: [],
    recommendedAction: 'notify',
    ...extra,
  };
}

/** A scan of TEST_ACCOUNT through the API source, with a 90-day window; the summary counts what it is given. */
export function scanResult(
  identities: ScannedIdentity[],
  findings: Finding[],
  extra: Partial<ScanResult> = {},
): ScanResult {
  return {
    schemaVersion: 1,
    generatedAt: new Date().toISOString(),
    source: 'api',
    providers: [{ provider: 'aws', source: 'api', accounts: [TEST_ACCOUNT], dataAsOf: null }],
    dataAsOf: null,
    accounts: [TEST_ACCOUNT],
    settings: { inactiveDays: 90 },
    identities,
    findings,
    warnings: [],
    summary: {
      identities: identities.length,
      inactive: identities.filter((i) => i.state === 'inactive').length,
      exempt: identities.filter((i) => i.state === 'exempt').length,
      findings: findings.length,
    },
    ...extra,
  };
}

// ------------------------------------------------------------------ users seeded into moto

const ago = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString();

/** Created 400 days ago, with a console password and one access key, used as many days ago as given. */
function seedUser(name: string, days: { passwordUsed: number; keyCreated: number; keyUsed: number }): SeedUser {
  return {
    name,
    createDate: ago(400),
    password: true,
    passwordLastUsed: ago(days.passwordUsed),
    keys: [{ createDate: ago(days.keyCreated), lastUsed: ago(days.keyUsed) }],
  };
}

/** Stale: created 400 days ago, its console password and its key last used 300 days ago. */
export function staleSeedUser(name: string, extra: Partial<SeedUser> = {}): SeedUser {
  return { ...seedUser(name, { passwordUsed: 300, keyCreated: 400, keyUsed: 300 }), ...extra };
}

/** Active: signed in and used its (recent) key yesterday. No finding at all. */
export function activeSeedUser(name: string): SeedUser {
  return seedUser(name, { passwordUsed: 1, keyCreated: 20, keyUsed: 1 });
}

// ------------------------------------------------------------------ other credentials

/** A real-format OpenSSH RSA public key (`ssh-rsa AAAA… comment`). */
export function sshPublicKey(comment = 'stale@laptop'): string {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  const mpint = (b64url: string): Buffer => {
    let bytes = Buffer.from(b64url, 'base64url');
    if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
    return bytes;
  };
  const field = (b: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  const blob = Buffer.concat([field(Buffer.from('ssh-rsa')), field(mpint(jwk.e!)), field(mpint(jwk.n!))]);
  return `ssh-rsa ${blob.toString('base64')} ${comment}`;
}

/** A self-signed PEM certificate, made with openssl at test time. */
export function signingCertificate(subject = '/CN=test'): string {
  return execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', '/dev/null', '-subj', subject, '-days', '1'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
}
