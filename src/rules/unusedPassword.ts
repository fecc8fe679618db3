/** DORMANT-AWS-004: a console password last used before the window, or never used and set before it. */
import { UNUSED_CREDENTIALS } from './compliance.js';
import { unusedCredentialHit } from './credentialUse.js';
import type { Rule, RuleHit } from './rule.js';

export const unusedPassword: Rule = {
  id: 'DORMANT-AWS-004',
  name: 'unused-password',
  title: 'Console password unused inside the window',
  provider: 'aws',
  identityKinds: ['user'],
  scope: 'credential',
  verdict: 'unused',
  severity: 'medium',
  compliance: UNUSED_CREDENTIALS,
  defaultAction: 'remove-password',
  rationale: 'A console password nobody signs in with is a phishing and guessing target with no owner watching it.',
  usesWindow: true,
  evaluate(identity, ctx) {
    const hits: RuleHit[] = [];
    for (const password of identity.credentials) {
      if (password.kind !== 'password') continue;
      const hit = unusedCredentialHit(password, `Console password of ${identity.name}`, ctx);
      if (hit) hits.push(hit);
    }
    return hits;
  },
};
