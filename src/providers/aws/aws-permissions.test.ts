// The printed policies cover every IAM and STS command the AWS provider can send.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  EVIDENCE_ACTIONS,
  ORGANIZATION_ACTIONS,
  REMEDIATE_READ_ACTIONS,
  REMEDIATE_ROLE_WRITE_ACTIONS,
  REMEDIATE_WRITE_ACTIONS,
  SCAN_ACTIONS,
  SECURITYHUB_ACTIONS,
  orgPolicyFor,
  policyFor,
} from './aws-permissions.js';

const awsDir = fileURLToPath(new URL('./', import.meta.url));

function commandsIn(file: string): string[] {
  const text = readFileSync(`${awsDir}${file}`, 'utf8');
  const sent = [...text.matchAll(/new (\w+)Command\(/g)].map((m) => m[1]!);
  const paged = [...text.matchAll(/paginate(\w+)\(/g)].map((m) => m[1]!);
  return [...new Set([...sent, ...paged])].filter((c) => c !== 'GetCallerIdentity');
}

const SCAN_FILES = [
  'aws-api-source.ts',
  'aws-report-source.ts',
  'aws-provider.ts',
  'aws-role-scan.ts',
  'aws-user-tags.ts',
];
const EVIDENCE_FILES = ['aws-cloudtrail-evidence.ts', 'aws-access-advisor-evidence.ts'];
const EXPORT_FILES = ['aws-securityhub.ts'];
/** What --org adds: the Organization listing and the member role's AssumeRole. */
const ORG_FILES = ['aws-org-accounts.ts', 'aws-assume.ts'];
/** What apply and restore run: the remediation class and the modules it composes. */
const REMEDIATION_FILES = [
  'aws-remediation.ts',
  'aws-actions.ts',
  'aws-backup.ts',
  'aws-restore.ts',
  'aws-restore-quarantine.ts',
  'aws-lists.ts',
  'aws-caller.ts',
  'aws-role-lists.ts',
  'aws-role-actions.ts',
  'aws-role-backup.ts',
  'aws-role-restore.ts',
];

describe('dormant permissions', () => {
  it('scan mode allows every call the scan path makes, and nothing that changes anything', () => {
    const used = SCAN_FILES.flatMap(commandsIn).map((c) => `iam:${c}`);
    expect(used.length).toBeGreaterThan(5);
    for (const action of used) expect(SCAN_ACTIONS).toContain(action);
    for (const action of SCAN_ACTIONS) expect(action).toMatch(/^iam:(Get|List|Generate)/);
  });

  it('remediate mode allows every call apply and restore make', () => {
    const used = REMEDIATION_FILES.flatMap(commandsIn).map((c) => `iam:${c}`);
    const allowed = [
      ...SCAN_ACTIONS,
      ...REMEDIATE_READ_ACTIONS,
      ...REMEDIATE_WRITE_ACTIONS,
      ...REMEDIATE_ROLE_WRITE_ACTIONS,
    ];
    expect(used.length).toBeGreaterThan(20);
    for (const action of used) expect(allowed).toContain(action);
  });

  it('no file of the AWS provider sends a command outside the lists above', () => {
    const files = readdirSync(awsDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    const known = new Set([...SCAN_FILES, ...EVIDENCE_FILES, ...REMEDIATION_FILES, ...EXPORT_FILES, ...ORG_FILES]);
    const unlisted = files.filter((f) => commandsIn(f).length > 0 && !known.has(f));
    expect(unlisted).toEqual([]);
  });

  it('--org adds exactly the Organizations calls and the AssumeRole of the member role, and the member role gets the mode policy', () => {
    const used = [
      ...commandsIn('aws-org-accounts.ts').map((c) => `organizations:${c}`),
      ...commandsIn('aws-assume.ts').map((c) => `sts:${c}`),
    ];
    expect([...used].sort()).toEqual([...ORGANIZATION_ACTIONS, 'sts:AssumeRole'].sort());
    for (const mode of ['scan', 'remediate'] as const) {
      const doc = orgPolicyFor(mode, { roleName: 'Audit', externalId: true }) as {
        managementAccount: { policy: { Statement: { Sid: string; Action: string[]; Resource: unknown }[] } };
        memberRole: { policy: unknown; trustPolicy: { Statement: { Condition?: unknown; Principal: unknown }[] } };
      };
      expect(doc.memberRole.policy).toEqual(policyFor(mode));
      const sids = doc.managementAccount.policy.Statement.map((st) => st.Sid);
      expect(sids.slice(-2)).toEqual(['DormantListOrganization', 'DormantAssumeMemberRole']);
      expect(doc.managementAccount.policy.Statement.at(-1)!.Resource).toBe('arn:aws:iam::*:role/Audit');
      expect(doc.memberRole.trustPolicy.Statement[0]!.Condition).toEqual({
        StringEquals: { 'sts:ExternalId': 'EXTERNAL_ID' },
      });
    }
    const plain = orgPolicyFor('scan', { roleName: 'Audit', externalId: false }) as {
      memberRole: { trustPolicy: { Statement: { Condition?: unknown }[] } };
    };
    expect(plain.memberRole.trustPolicy.Statement[0]!.Condition).toBeUndefined();
  });

  it('export mode adds exactly the Security Hub calls the export makes', () => {
    const used = EXPORT_FILES.flatMap(commandsIn).map((c) => `securityhub:${c}`);
    expect([...used].sort()).toEqual([...SECURITYHUB_ACTIONS].sort());
    const exp = policyFor('export') as { Statement: { Sid: string; Action: string[] }[] };
    expect(exp.Statement.map((st) => st.Sid)).toEqual(['DormantScanReadOnly', 'DormantSecurityHubExport']);
    expect(exp.Statement[1]!.Action).toEqual([...SECURITYHUB_ACTIONS]);
  });

  it('prints a valid policy document per mode', () => {
    const scan = policyFor('scan') as { Version: string; Statement: { Action: string[] }[] };
    expect(scan.Version).toBe('2012-10-17');
    expect(scan.Statement).toHaveLength(1);
    const remediate = policyFor('remediate') as { Statement: { Sid: string; Action: string[] }[] };
    expect(remediate.Statement.map((s) => s.Sid)).toEqual([
      'DormantScanReadOnly',
      'DormantRemediateRead',
      'DormantReviewEvidence',
      'DormantRemediateUsers',
      'DormantRemediateRoles',
    ]);
    expect(remediate.Statement[3]!.Action).toContain('iam:DeleteUser');
  });

  it('remediate mode allows the evidence calls a review makes', () => {
    const text = EVIDENCE_FILES.map((f) => readFileSync(`${awsDir}${f}`, 'utf8')).join('\n');
    const used = [...text.matchAll(/new (\w+)Command\(/g)].map((m) => m[1]!);
    expect(used).toEqual(
      expect.arrayContaining(['LookupEvents', 'GenerateServiceLastAccessedDetails', 'GetServiceLastAccessedDetails']),
    );
    expect(EVIDENCE_ACTIONS).toEqual([
      'cloudtrail:LookupEvents',
      'iam:GenerateServiceLastAccessedDetails',
      'iam:GetServiceLastAccessedDetails',
    ]);
  });
});
