/**
 * The AWS scan provider: the inventory from the credential report (default) or the API, the
 * caller's identity (marked, with the root, as never to be acted on), and enrichment (tags;
 * report key slots mapped to key ids).
 */
import { GetAccessKeyLastUsedCommand, paginateListAccessKeys, paginateListUserTags } from '@aws-sdk/client-iam';
import pLimit from 'p-limit';
import { CloudError } from '../../errors.js';
import type { Caller, Credential, Identity, Inventory } from '../../model/identity.js';
import { isoSeconds } from '../../model/time.js';
import type { EnrichRequest, ProgressSink, ScanProvider } from '../provider.js';
import { collectFromApi } from './aws-api-source.js';
import { markProtected, readCaller } from './aws-caller.js';
import type { AwsClients } from './aws-client.js';
import { isAccessDenied, isNoSuchEntity, toCloudError } from './aws-errors.js';
import { parseCredentialReport } from './aws-credential-report.js';
import { ReportUnavailableError, fetchCredentialReport } from './aws-report-source.js';
import { collectRoles } from './aws-role-scan.js';
import { tagsInBulk } from './aws-user-tags.js';

export type AwsSource = 'auto' | 'report' | 'api';

export interface AwsProviderOptions {
  /** auto: the credential report, switching to the API with a warning when it cannot be had. */
  source: AwsSource;
  maxReportAgeHours: number;
  reportTimeoutSeconds: number;
  /** Read IAM roles too (GetAccountAuthorizationDetails), whatever the user source. Default true. */
  roles?: boolean;
  progress?: ProgressSink;
}

export class AwsProvider implements ScanProvider {
  readonly name = 'aws';
  /** Users in the collected inventory: decides whether GAAD pages are fewer calls than ListUserTags. */
  private userCount = 0;

  constructor(
    readonly aws: AwsClients,
    private readonly options: AwsProviderOptions,
  ) {}

  caller(): Promise<Caller> {
    return readCaller(this.aws);
  }

  async collect(): Promise<Inventory> {
    const caller = await this.caller();
    const [inventory, roles] = await Promise.all([
      this.collectFrom(caller),
      this.options.roles === false ? null : collectRoles(this.aws),
    ]);
    if (roles) {
      inventory.identities.push(...roles.identities);
      inventory.warnings.push(...roles.warnings);
    }
    for (const identity of inventory.identities) markProtected(identity, inventory.caller);
    this.userCount = inventory.identities.filter((i) => i.kind !== 'role').length;
    return inventory;
  }

  private async collectFrom(caller: Caller): Promise<Inventory> {
    const progress = this.options.progress;
    if (this.options.source !== 'api') {
      try {
        progress?.('reading the IAM credential report');
        const report = await fetchCredentialReport(this.aws, {
          maxReportAgeHours: this.options.maxReportAgeHours,
          timeoutSeconds: this.options.reportTimeoutSeconds,
          ...(progress ? { progress } : {}),
        });
        let parsed;
        try {
          parsed = parseCredentialReport(report.content, 'credential report from AWS');
        } catch (err) {
          // A report AWS produced but we cannot read is not the user's input error: it is a
          // report that cannot be had, which auto mode answers with the API source.
          const detail = (err as Error).message.replace(/; export the report again$/, '');
          throw new ReportUnavailableError(`${detail}; use --source api`, 'UnreadableReport');
        }
        const warnings = [...report.warnings, ...parsed.warnings];
        if (parsed.identities.length === 0) warnings.push('the credential report lists no IAM users');
        return {
          provider: 'aws',
          source: 'credential-report',
          accounts: [...new Set([caller.account, ...parsed.accounts].filter(Boolean))].sort(),
          dataAsOf: report.generatedAt,
          caller,
          identities: parsed.identities,
          warnings,
        };
      } catch (err) {
        const fallback =
          this.options.source === 'auto' &&
          (err instanceof ReportUnavailableError || (err instanceof CloudError && err.code === 'AccessDenied'));
        if (!fallback) throw err;
        progress?.('the credential report cannot be had; switching to the API source');
        const api = await this.collectApi(caller);
        api.warnings.unshift(
          `${(err as Error).message.split(';')[0]}; switched to the API source (more calls, same verdicts)`,
        );
        return api;
      }
    }
    return this.collectApi(caller);
  }

  private async collectApi(caller: Caller): Promise<Inventory> {
    this.options.progress?.('listing IAM users through the API');
    const { identities, warnings } = await collectFromApi(this.aws, this.options.progress);
    const accounts = new Set([caller.account, ...identities.map((i) => i.account)].filter(Boolean));
    return {
      provider: 'aws',
      source: 'api',
      accounts: [...accounts].sort(),
      dataAsOf: isoSeconds(Date.now()),
      caller,
      identities,
      warnings,
    };
  }

  async enrich(input: EnrichRequest): Promise<string[]> {
    // Roles came with their tags (GetAccountAuthorizationDetails) and have no credentials to resolve.
    const request = { tags: input.tags.filter((i) => i.kind !== 'role'), unresolved: input.unresolved };
    const warnings: string[] = [];
    const limit = pLimit(this.aws.settings.concurrency);
    const slotUsers = new Set(request.unresolved);
    // GAAD pages when they are fewer calls; what is left (or everything, GAAD denied) by ListUserTags.
    const bulk = await tagsInBulk(this.aws, request.tags, this.userCount);
    warnings.push(...bulk.warnings);
    const tagUsers = bulk.remaining;
    const tagSet = new Set(tagUsers);
    const users = [...new Set([...tagUsers, ...request.unresolved])];
    let deniedTags = 0;
    await Promise.all(
      users.map((identity) =>
        limit(async () => {
          const jobs: Promise<void>[] = [];
          if (tagSet.has(identity)) {
            jobs.push(
              this.readTags(identity).catch((err: unknown) => {
                if (isAccessDenied(err)) deniedTags++;
                else if (isNoSuchEntity(err)) warnings.push(`user ${identity.name} no longer exists`);
                else throw toCloudError(err, `iam:ListUserTags for ${identity.name}`, this.aws.settings);
              }),
            );
          }
          if (slotUsers.has(identity)) jobs.push(this.mapKeySlots(identity, warnings));
          await Promise.all(jobs);
        }),
      ),
    );
    if (deniedTags > 0) {
      warnings.push(
        `AWS denied iam:ListUserTags for ${deniedTags} user(s): tag exemptions were not applied to them; grant it ('dormant permissions')`,
      );
    }
    return warnings;
  }

  private async readTags(identity: Identity): Promise<void> {
    const tags: Record<string, string> = {};
    for await (const page of paginateListUserTags({ client: this.aws.iam }, { UserName: identity.name })) {
      for (const t of page.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
    }
    identity.tags = tags;
  }

  /**
   * The report names keys by slot. A key's CreateDate equals the slot's last_rotated to the
   * second; when two keys match, ask GetAccessKeyLastUsed rather than guess, because acting
   * on the wrong key is the classic bug of this kind of tool.
   */
  private async mapKeySlots(identity: Identity, warnings: string[]): Promise<void> {
    const live: { id: string; createdAt: number; status: string }[] = [];
    try {
      for await (const page of paginateListAccessKeys({ client: this.aws.iam }, { UserName: identity.name })) {
        for (const k of page.AccessKeyMetadata ?? []) {
          if (k.AccessKeyId && k.CreateDate) {
            live.push({ id: k.AccessKeyId, createdAt: toSecond(k.CreateDate), status: k.Status ?? 'Unknown' });
          }
        }
      }
    } catch (err) {
      if (isNoSuchEntity(err)) {
        warnings.push(`user ${identity.name} no longer exists`);
        return;
      }
      throw toCloudError(err, `iam:ListAccessKeys for ${identity.name}`, this.aws.settings);
    }
    const taken = new Set<string>();
    for (const cred of identity.credentials) {
      if (cred.kind !== 'access-key' || cred.id !== null || cred.createdAt === null) continue;
      const created = toSecond(cred.createdAt);
      let matches = live.filter((k) => k.createdAt === created && !taken.has(k.id));
      // Keys created in the same second: the slot's Active/Inactive status tells them apart first.
      if (matches.length > 1) matches = matches.filter((k) => k.status === cred.status);
      if (matches.length > 1) matches = await this.disambiguate(cred, matches);
      if (matches.length === 1) {
        cred.id = matches[0]!.id;
        taken.add(cred.id);
      } else {
        warnings.push(
          `${identity.name}: the key in ${cred.handle} (created ${cred.createdAt}) ${matches.length === 0 ? 'no longer exists (rotated since the report?)' : 'cannot be told apart from another key'}; it is named by slot and will not be acted on`,
        );
      }
    }
  }

  private async disambiguate(
    cred: Credential,
    matches: { id: string; createdAt: number; status: string }[],
  ): Promise<{ id: string; createdAt: number; status: string }[]> {
    const want = cred.lastUse === 'used' && cred.lastUsedAt ? toSecond(cred.lastUsedAt) : null;
    const out: { id: string; createdAt: number; status: string }[] = [];
    for (const m of matches) {
      try {
        const r = await this.aws.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: m.id }));
        const used = r.AccessKeyLastUsed?.LastUsedDate ? toSecond(r.AccessKeyLastUsed.LastUsedDate) : null;
        if (used === want) out.push(m);
      } catch (err) {
        throw toCloudError(err, `iam:GetAccessKeyLastUsed for ${m.id}`, this.aws.settings);
      }
    }
    return out;
  }
}

function toSecond(d: Date | string): number {
  return Math.floor(new Date(d).getTime() / 1000);
}
