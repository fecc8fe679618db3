/**
 * The one table of compliance references (DESIGN §2). Each reference names the exact clause.
 * The README's compliance table lists the same strings, and compliance.test.ts fails when
 * the two differ, so they cannot drift.
 *
 * Added for issue 13 (the frameworks the rule pages this project grew from cite):
 * - APRA CPS 234 para 21: an APRA-regulated entity must have information security controls to
 *   protect its information assets, implemented in a timely manner and commensurate with the
 *   threats, the assets' criticality and sensitivity, and their stage in the life-cycle (the
 *   "Implementation of controls" paragraph; access removal and review are APRA's CPG 234
 *   guidance under it).
 * - MAS TRM 2021 9.1: Technology Risk Management Guidelines (January 2021), section 9 Access
 *   Control, 9.1 User Access Management (granting, reviewing and revoking user access).
 * - GDPR Art. 32(1)(b): "the ability to ensure the ongoing confidentiality, integrity,
 *   availability and resilience of processing systems and services".
 */
export const UNUSED_CREDENTIALS = [
  'CIS AWS 1.12 (v3.0)',
  'CIS AWS 1.11 (v5.0)',
  'AWS Security Hub IAM.8',
  'AWS Security Hub IAM.22',
  'NIST 800-53 AC-2(3)',
  'PCI DSS 4.0 8.2.6',
  'SOC 2 CC6.2',
  'SOC 2 CC6.3',
  'HIPAA 164.308(a)(3)(ii)(C)',
  'ISO 27001:2022 A.5.18',
  'APRA CPS 234 para 21',
  'MAS TRM 2021 9.1',
  'GDPR Art. 32(1)(b)',
] as const;

export const KEY_ROTATION = [
  'CIS AWS 1.14 (v3.0)',
  'CIS AWS 1.13 (v5.0)',
  'AWS Security Hub IAM.3',
  'NIST 800-53 IA-5(1)',
  'SOC 2 CC6.1',
  'ISO 27001:2022 A.5.17',
] as const;

/**
 * The references of UNUSED_CREDENTIALS that name no AWS control: they hold for inactive
 * accounts at any provider (Entra ID users and guests).
 */
export const INACTIVE_ACCOUNTS: readonly string[] = UNUSED_CREDENTIALS.filter((r) => !r.includes('AWS'));

/**
 * DORMANT-AWS-006 (unused roles): the inactive-account references. CIS AWS 1.12/1.11 and
 * Security Hub IAM.8/IAM.22 are about IAM users' passwords and access keys, and no CIS or
 * Security Hub control covers unused roles, so none of them is cited for a role.
 */
export const UNUSED_ROLES: readonly string[] = INACTIVE_ACCOUNTS;
