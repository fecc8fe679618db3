/**
 * DORMANT-GCP-001: an enabled user-managed service account key created before the window with
 * no authentication inside it (Policy Analyzer). Disabled first; deleted `deleteAfterDays`
 * later (a deleted key cannot come back, and the plan says so).
 */
import { INACTIVE_ACCOUNTS } from './compliance.js';
import { unusedCredentialHit } from './credentialUse.js';
import type { Rule, RuleHit } from './rule.js';

export const gcpUnusedServiceAccountKey: Rule = {
  id: 'DORMANT-GCP-001',
  name: 'unused-service-account-key',
  title: 'Service account key with no authentication inside the window',
  provider: 'google',
  identityKinds: ['service-account'],
  scope: 'credential',
  verdict: 'unused',
  severity: 'medium',
  compliance: INACTIVE_ACCOUNTS,
  defaultAction: 'deactivate-key',
  thenAction: 'delete-key',
  // Policy Analyzer reports authentications up to two days late (see DORMANT-GCP-002).
  minDeleteAfterDays: 3,
  rationale:
    'A downloaded key works for anyone who holds a copy, until it expires or is deleted; one nobody uses is pure risk.',
  usesWindow: true,
  evaluate(identity, ctx) {
    const hits: RuleHit[] = [];
    for (const key of identity.credentials) {
      if (key.kind !== 'key' || !key.enabled) continue;
      const hit = unusedCredentialHit(key, `Key ${key.id ?? ''} of service account ${identity.name}`, ctx);
      if (hit) hits.push(hit);
    }
    return hits;
  },
};
