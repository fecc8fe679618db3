/** The rule registry, in id order. Adding a rule means adding a file and a line here. */
import { entraInactiveGuest } from './entraInactiveGuest.js';
import { entraInactiveUser } from './entraInactiveUser.js';
import { entraNeverSignedInUser } from './entraNeverSignedInUser.js';
import { gcpInactiveServiceAccount } from './gcpInactiveServiceAccount.js';
import { gcpUnusedServiceAccountKey } from './gcpUnusedServiceAccountKey.js';
import { googleInactiveUser } from './googleInactiveUser.js';
import { googleNeverSignedInUser } from './googleNeverSignedInUser.js';
import { inactiveUser } from './inactiveUser.js';
import type { Rule } from './rule.js';
import { unrotatedAccessKey } from './unrotatedAccessKey.js';
import { unusedAccessKey } from './unusedAccessKey.js';
import { unusedPassword } from './unusedPassword.js';
import { unusedRole } from './unusedRole.js';
import { unusedUser } from './unusedUser.js';

export const RULES: readonly Rule[] = [
  inactiveUser,
  unusedAccessKey,
  unusedUser,
  unusedPassword,
  unrotatedAccessKey,
  unusedRole,
  entraInactiveUser,
  entraInactiveGuest,
  entraNeverSignedInUser,
  googleInactiveUser,
  googleNeverSignedInUser,
  gcpUnusedServiceAccountKey,
  gcpInactiveServiceAccount,
];

export const RULE_NAMES = RULES.map((r) => r.name);

export function ruleByName(name: string): Rule | undefined {
  return RULES.find((r) => r.name === name);
}

export type { Rule, RuleContext, RuleHit, RuleMeta } from './rule.js';
