/**
 * The one table of compliance references (DESIGN §2). The README's rule table is
 * generated from the same data (see `dormant rules`), so they cannot drift.
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
