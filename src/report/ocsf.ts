/**
 * `--format ocsf` and `--format ocsf-jsonl`: one OCSF Detection Finding (class 2004, category
 * 2 Findings) per finding, in OCSF schema 1.9.0 (https://schema.ocsf.io/1.9.0/classes/detection_finding).
 * The identity is the affected resource (`resources`) and, as an OCSF User, the evidence
 * (`evidences[].user`): it is what the finding is about, not an actor that did something.
 * `finding_info.uid` is the finding's stable id, so the same finding keeps its uid across scans.
 */
import type { ScanResult, Severity } from '../model/finding.js';
import type { IdentityKind, ProviderName } from '../model/identity.js';
import { epochMs, findingContexts, PRODUCT, type ContextOptions, type FindingContext } from './interchange.js';

/** The OCSF schema version the objects follow (the current release, v1.9.0 of August 2026). */
export const OCSF_VERSION = '1.9.0';

const CLASS = { uid: 2004, name: 'Detection Finding' } as const;
const CATEGORY = { uid: 2, name: 'Findings' } as const;
const CREATE = { id: 1, name: 'Create' } as const;
const STATUS_NEW = { id: 1, name: 'New' } as const;

/** OCSF severity_id and its caption. */
const SEVERITY: Record<Severity, { id: number; caption: string }> = {
  low: { id: 2, caption: 'Low' },
  medium: { id: 3, caption: 'Medium' },
  high: { id: 4, caption: 'High' },
};

/** The observable type ids of the dictionary types we point at (username_t, resource_uid_t). */
const OBSERVABLE = { userName: { id: 4, name: 'User Name' }, resourceUid: { id: 10, name: 'Resource UID' } } as const;

export interface OcsfAccount {
  uid: string;
  type_id: number;
  type: string;
}

export interface OcsfUser {
  uid: string;
  name: string;
  type_id: number;
  type: string;
  account: OcsfAccount;
  full_name?: string;
  email_addr?: string;
  created_time?: number;
  last_login_time?: number;
  status_id?: number;
  status?: string;
}

export interface OcsfResource {
  uid: string;
  name: string;
  type: string;
  cloud_partition?: string;
  created_time?: number;
  data?: Record<string, unknown>;
}

export interface OcsfDetectionFinding {
  activity_id: number;
  activity_name: string;
  category_uid: number;
  category_name: string;
  class_uid: number;
  class_name: string;
  type_uid: number;
  type_name: string;
  severity_id: number;
  severity: string;
  status_id: number;
  status: string;
  time: number;
  message: string;
  metadata: {
    version: string;
    product: { name: string; vendor_name: string; version: string };
    profiles: string[];
  };
  finding_info: {
    uid: string;
    title: string;
    desc: string;
    types: string[];
    analytic: { uid: string; name: string; type_id: number; type: string; desc?: string };
    created_time: number;
    modified_time: number;
    data_sources: string[];
    tags?: { name: string; values: string[] }[];
  };
  cloud: { provider: string; account: OcsfAccount };
  resources: OcsfResource[];
  evidences: { name: string; user: OcsfUser; data: Record<string, unknown> }[];
  observables: { name: string; type_id: number; type: string; value: string }[];
  remediation: { desc: string };
}

/** Where an identity lives, in OCSF's words: the cloud provider and the account's type. */
function cloudOf(
  provider: ProviderName,
  kind: IdentityKind | undefined,
): { provider: string; type_id: number; type: string } {
  switch (provider) {
    case 'aws':
      return { provider: 'AWS', type_id: 10, type: 'AWS Account' };
    case 'entra':
      return { provider: 'Azure', type_id: 17, type: 'M365 Tenant' };
    case 'google':
      // Service accounts live in Cloud projects; users and groups in the Workspace customer.
      return kind === 'service-account'
        ? { provider: 'GCP', type_id: 11, type: 'GCP Project' }
        : { provider: 'Google Workspace', type_id: 15, type: 'Google Workspace' };
  }
}

const RESOURCE_TYPE: Record<ProviderName, Partial<Record<IdentityKind, string>>> = {
  aws: { user: 'AwsIamUser', role: 'AwsIamRole' },
  entra: { user: 'Microsoft Entra ID user', guest: 'Microsoft Entra ID guest user' },
  google: { user: 'Google Workspace user', 'service-account': 'Google Cloud service account' },
};

const CREDENTIAL_TYPE: Record<ProviderName, string> = {
  aws: 'AwsIamAccessKey',
  entra: 'Microsoft Entra ID credential',
  google: 'Google Cloud service account key',
};

/** OCSF user type_id: User (1) and Service (4); guests and roles are Other (99) with their own word. */
function userType(kind: IdentityKind | undefined): { type_id: number; type: string } {
  switch (kind) {
    case 'service-account':
      return { type_id: 4, type: 'Service' };
    case 'guest':
      return { type_id: 99, type: 'Guest' };
    case 'role':
      return { type_id: 99, type: 'Role' };
    default:
      return { type_id: 1, type: 'User' };
  }
}

/** The partition of an AWS ARN (`arn:aws-cn:…` → aws-cn). */
function arnPartition(id: string): string | undefined {
  return /^arn:([^:]+):/.exec(id)?.[1];
}

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function toOcsf(ctx: FindingContext, result: ScanResult): OcsfDetectionFinding {
  const { finding: f, rule, identity, credential } = ctx;
  const generated = epochMs(result.generatedAt) ?? Date.now();
  const severity = SEVERITY[f.severity];
  const cloud = cloudOf(f.provider, identity?.kind);
  const account: OcsfAccount = { uid: f.account, type_id: cloud.type_id, type: cloud.type };
  const source = result.providers.find((p) => p.provider === f.provider)?.source ?? result.source;

  const identityResource: OcsfResource = defined({
    uid: f.identityId,
    name: f.identityName,
    type: RESOURCE_TYPE[f.provider][identity?.kind ?? 'user'] ?? `${f.provider} ${identity?.kind ?? 'identity'}`,
    cloud_partition: f.provider === 'aws' ? arnPartition(f.identityId) : undefined,
    created_time: epochMs(identity?.createdAt),
    data: defined({
      provider: f.provider,
      account: f.account,
      kind: identity?.kind,
      path: identity?.path,
      state: identity?.state,
      enabled: identity?.enabled,
    }),
  });
  const resources = [identityResource];
  // A credential the source names only by a handle (a report slot) is no resource of its own.
  if (f.credentialId !== null && f.credentialHandle === undefined) {
    resources.push(
      defined({
        uid: f.credentialId,
        name: f.credentialId,
        type: CREDENTIAL_TYPE[f.provider],
        created_time: epochMs(credential?.createdAt),
        data: defined({ owner: f.identityId, status: credential?.status }),
      }),
    );
  }

  const enabled = identity?.enabled;
  const user: OcsfUser = defined({
    uid: f.identityId,
    name: f.identityName,
    ...userType(identity?.kind),
    account,
    full_name: identity?.displayName ?? undefined,
    email_addr: identity?.mail ?? undefined,
    created_time: epochMs(identity?.createdAt),
    last_login_time: epochMs(identity?.lastSignInAt),
    status_id: enabled === undefined ? undefined : enabled ? 1 : 2,
    status: enabled === undefined ? undefined : enabled ? 'Active' : 'Disabled',
  });

  const evidence = defined({
    lastActivityAt: f.lastActivityAt,
    daysSinceActivity: f.daysSinceActivity,
    credential: credential
      ? defined({
          kind: credential.kind,
          id: credential.id,
          handle: credential.handle,
          status: credential.status,
          enabled: credential.enabled,
          createdAt: credential.createdAt,
          lastUsedAt: credential.lastUsedAt,
          lastUse: credential.lastUse,
        })
      : undefined,
    notes: identity?.notes,
  });

  return defined({
    activity_id: CREATE.id,
    activity_name: CREATE.name,
    category_uid: CATEGORY.uid,
    category_name: CATEGORY.name,
    class_uid: CLASS.uid,
    class_name: CLASS.name,
    type_uid: CLASS.uid * 100 + CREATE.id,
    type_name: `${CLASS.name}: ${CREATE.name}`,
    severity_id: severity.id,
    severity: severity.caption,
    status_id: STATUS_NEW.id,
    status: STATUS_NEW.name,
    time: generated,
    message: f.message,
    metadata: {
      version: OCSF_VERSION,
      product: { name: PRODUCT.name, vendor_name: PRODUCT.vendor, version: PRODUCT.version },
      // `cloud` belongs to the Cloud profile.
      profiles: ['cloud'],
    },
    finding_info: defined({
      uid: f.id,
      title: rule?.title ?? f.rule,
      desc: f.message,
      types: [rule?.scope === 'credential' ? 'Unused or stale credential' : 'Inactive identity'],
      analytic: defined({ uid: f.ruleId, name: f.rule, type_id: 1, type: 'Rule', desc: rule?.rationale }),
      created_time: generated,
      modified_time: generated,
      data_sources: [source],
      // Detection Finding has no compliance attribute (Compliance Finding, class 2003, does):
      // the references travel as a tag.
      tags: f.compliance.length > 0 ? [{ name: 'compliance', values: [...f.compliance] }] : undefined,
    }),
    cloud: { provider: cloud.provider, account },
    resources,
    evidences: [{ name: 'last activity', user, data: evidence }],
    observables: [
      {
        name: 'resources.uid',
        type_id: OBSERVABLE.resourceUid.id,
        type: OBSERVABLE.resourceUid.name,
        value: f.identityId,
      },
      {
        name: 'evidences.user.name',
        type_id: OBSERVABLE.userName.id,
        type: OBSERVABLE.userName.name,
        value: f.identityName,
      },
    ],
    remediation: { desc: ctx.recommendation },
  });
}

/** The OCSF objects of a scan, one per finding, in the document's order. */
export function toOcsfFindings(result: ScanResult, options: ContextOptions = {}): OcsfDetectionFinding[] {
  return findingContexts(result, options).map((ctx) => toOcsf(ctx, result));
}

/** `--format ocsf`: a JSON array, one element at a time (a large scan never becomes one string). */
export function* renderOcsfChunks(result: ScanResult, options: ContextOptions = {}): Generator<string> {
  const contexts = findingContexts(result, options);
  if (contexts.length === 0) {
    yield '[]\n';
    return;
  }
  yield '[\n';
  for (let i = 0; i < contexts.length; i++) {
    const json = JSON.stringify(toOcsf(contexts[i]!, result), null, 2).replace(/\n/g, '\n  ');
    yield `  ${json}${i < contexts.length - 1 ? ',\n' : '\n'}`;
  }
  yield ']\n';
}

/** `--format ocsf-jsonl`: one OCSF object per line, for log shippers and data lakes. */
export function* renderOcsfJsonlChunks(result: ScanResult, options: ContextOptions = {}): Generator<string> {
  for (const ctx of findingContexts(result, options)) yield `${JSON.stringify(toOcsf(ctx, result))}\n`;
}
