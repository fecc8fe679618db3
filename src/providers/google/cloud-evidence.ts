/**
 * Evidence for reviewers of a Google Cloud service account: when Policy Analyzer last saw the
 * account authenticate, and each of its user-managed keys, as one section. Never throws: a
 * source that cannot be read is "unavailable" with the reason, never "no activity".
 */
import type { EvidenceItem, EvidenceSection } from '../../model/evidence.js';
import { unavailableSection } from '../../model/evidence.js';
import type { IdentityRef } from '../provider.js';
import { readLiveAccount } from './cloud-collect.js';
import { keyIdOf } from './cloud-identity.js';
import type { GoogleContext } from './google-context.js';
import { googleFailure } from './google-errors.js';

export const CLOUD_EVIDENCE_SOURCE = 'gcp-policy-analyzer';
export const CLOUD_EVIDENCE_TITLE = 'Policy Analyzer last authentication';
const SCOPE = 'Policy Analyzer activity (dates in Pacific time, up to two days behind)';

const day = (at: string | null) => (at ? at.slice(0, 10) : 'never');

export async function cloudAuthEvidence(ctx: GoogleContext, target: IdentityRef, now: Date): Promise<EvidenceSection> {
  const unavailable = (reason: string) => unavailableSection(CLOUD_EVIDENCE_SOURCE, CLOUD_EVIDENCE_TITLE, reason, now);
  try {
    const live = await readLiveAccount(ctx, target.account, target.id);
    if (!live) return unavailable(`the service account ${target.name} (${target.id}) no longer exists`);
    if (!live.index) return unavailable(live.problem ?? 'Policy Analyzer could not be read');
    const { sa, index } = live;
    const accountAt = index.account(sa);
    const items: EvidenceItem[] = [
      {
        at: accountAt,
        summary: accountAt
          ? `${sa.email} last authenticated on ${day(accountAt)}`
          : `${sa.email}: no authentication recorded`,
        fields: { resource: 'service account', email: sa.email, uniqueId: sa.uniqueId, lastAuthenticated: accountAt },
      },
    ];
    for (const key of live.keys) {
      const keyId = keyIdOf(key.name);
      const at = index.key(sa, keyId);
      items.push({
        at,
        summary: at ? `key ${keyId} last authenticated on ${day(at)}` : `key ${keyId}: no authentication recorded`,
        fields: {
          resource: 'key',
          keyId,
          created: key.validAfterTime,
          status: key.disabled ? 'disabled' : 'enabled',
          lastAuthenticated: at,
        },
      });
    }
    const head = items[0]!;
    const rest = items.slice(1);
    // Newest first, as every evidence section lists them; "never" goes last.
    rest.sort((a, b) => (b.at ? Date.parse(b.at) : -Infinity) - (a.at ? Date.parse(a.at) : -Infinity));
    const keyPart =
      live.keys.length === 0
        ? 'no user-managed keys'
        : `${live.keys.length} key${live.keys.length === 1 ? '' : 's'}, the latest used ${day(rest[0]?.at ?? null)}`;
    return {
      source: CLOUD_EVIDENCE_SOURCE,
      title: CLOUD_EVIDENCE_TITLE,
      status: 'ok',
      collectedAt: now.toISOString(),
      summary: `${CLOUD_EVIDENCE_TITLE}: account ${accountAt ? `last authenticated ${day(accountAt)}` : 'never authenticated'}; ${keyPart}${index.observedUntil ? ` (data until ${day(index.observedUntil)})` : ''}`,
      items: [head, ...rest],
      scope: SCOPE,
    };
  } catch (err) {
    return unavailable(
      googleFailure(err, { what: `reading the activity of ${target.name}`, fix: 'try again' }).message,
    );
  }
}
