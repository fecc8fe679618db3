/** DORMANT-AWS-002: an Active access key last used before the window, or never used and older than it. */
import { UNUSED_CREDENTIALS } from './compliance.js';
import { unusedCredentialHit } from './credentialUse.js';
import type { Rule, RuleHit } from './rule.js';

export const unusedAccessKey: Rule = {
  id: 'DORMANT-AWS-002',
  name: 'unused-access-key',
  title: 'Active access key unused inside the window',
  provider: 'aws',
  identityKinds: ['user'],
  scope: 'credential',
  verdict: 'unused',
  severity: 'medium',
  compliance: UNUSED_CREDENTIALS,
  defaultAction: 'deactivate-key',
  rationale: 'A long-lived key nobody uses can still be used by whoever copied it; deactivating it is reversible.',
  usesWindow: true,
  evaluate(identity, ctx) {
    const hits: RuleHit[] = [];
    for (const key of identity.credentials) {
      if (key.kind !== 'access-key' || !key.enabled) continue;
      const label = `Access key ${key.id ?? key.handle ?? ''} of ${identity.name}`;
      const hit = unusedCredentialHit(key, label, ctx);
      if (hit) hits.push(hit);
    }
    return hits;
  },
};
