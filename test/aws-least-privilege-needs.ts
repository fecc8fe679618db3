// Why each action of `dormant permissions` is there: for every action the printed policies
// grant, the command that needs it (a probe, test/support/leastPrivilegeProbes.ts) and what
// that command must do without it (a check). Used by test/aws-least-privilege.test.ts, which
// takes each action away in turn.
import { verdicts } from './support/leastPrivilege.js';
import {
  type Ctx,
  type Observed,
  type Prepared,
  type Probe,
  forApply,
  forRestoreDeleted,
  forRestoreDisabled,
  forRoleApply,
  forRoleRestoreDeleted,
  forRoleRestoreDisabled,
  forRoleRestoreNoProfile,
} from './support/leastPrivilegeProbes.js';

export interface Need {
  principal: 'scanner' | 'remediator' | 'exporter';
  probe: Probe;
  /** What the check expects, in words (for a failing test's message). */
  shows: string;
  /** Returns null when the probe behaved as expected, else what went wrong. */
  check(seen: Observed, action: string, baseline: unknown): string | null;
  prepare?(ctx: Ctx): Promise<Prepared>;
}

// ---------------------------------------------------------------- checks

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const denied = (action: string) =>
  new RegExp(
    `AWS denied ${escape(action)}\\b[^\\n]*\\(AccessDenied(Exception)?\\); grant it to the identity dormant runs as \\('dormant permissions[^']*' prints the policy\\)`,
  );

/** The command failed, and its message names the action and the fix. */
function fails(seen: Observed, action: string): string | null {
  if (seen.ok) return 'the command succeeded without it';
  return denied(action).test(seen.message) ? null : `the failure does not name it: ${seen.message}`;
}

/** Through the CLI: exit 3 and exactly one line on stderr (`failedItem`: apply's "failed:" line on stdout). */
function failsInCli(failedItem = false) {
  return (seen: Observed, action: string): string | null => {
    const cli = seen.cli!;
    const stderr = cli.stderr.trim().split('\n').filter(Boolean);
    if (cli.code !== 3) return `exit ${cli.code}, not 3: ${cli.stderr}${cli.stdout}`;
    if (/\n\s+at /.test(cli.stderr)) return `a stack trace on stderr: ${cli.stderr}`;
    if (failedItem) {
      const line = cli.stdout.split('\n').find((l) => l.startsWith('failed: '));
      if (!line || !denied(action).test(line)) return `no "failed:" line naming it: ${cli.stdout}`;
      return stderr.length === 0 ? null : `stderr is not empty: ${cli.stderr}`;
    }
    if (stderr.length !== 1) return `not one line on stderr: ${cli.stderr}`;
    return stderr[0]!.startsWith('dormant: ') && denied(action).test(stderr[0]!) ? null : `stderr: ${stderr[0]}`;
  };
}

/** The command succeeded with a warning that names the action; with `same`, the verdicts did not change. */
function warns(pattern: RegExp, same: boolean, extra?: (seen: Observed) => string | null) {
  return (seen: Observed, _action: string, baseline: unknown): string | null => {
    if (!seen.ok) return `it failed instead of falling back: ${seen.message}`;
    if (!seen.warnings.some((w) => pattern.test(w))) return `no warning ${pattern}: ${seen.warnings.join(' | ')}`;
    if (same && JSON.stringify(verdicts(seen.scan!)) !== JSON.stringify(baseline)) return 'the verdicts changed';
    return extra?.(seen) ?? null;
  };
}

/** Review evidence: that source says why it is unavailable, naming the action; the other one still answers. */
function unavailable(source: 'cloudtrail' | 'access-advisor') {
  return (seen: Observed, action: string): string | null => {
    const sections = seen.evidence ?? [];
    const mine = sections.find((s) => s.source === source);
    const others = sections.filter((s) => s.source !== source);
    if (mine?.status !== 'unavailable') return `${source} is ${mine?.status ?? 'missing'}`;
    if (!mine.reason?.startsWith(`no permission for ${action} (AccessDenied`)) return `reason: ${mine.reason}`;
    if (others.length === 0 || others.some((s) => s.status !== 'ok')) return 'the other evidence failed too';
    return null;
  };
}

/**
 * Moto cannot show the need: the call is one that only real AWS authorizes (a dependent action).
 * The probe still runs, and must succeed without it, so that the day moto checks it this
 * entry turns into a real probe.
 */
function onlyRealAws(why: string) {
  return (seen: Observed): string | null => {
    if (!why) return 'no reason given';
    return seen.ok ? null : `moto now needs it (make this a real probe): ${seen.message}`;
  };
}

// ---------------------------------------------------------------- the table

const scanner = (probe: Probe, shows: string, check: Need['check']): Need => ({
  principal: 'scanner',
  probe,
  shows,
  check,
});

const applyFails: Need = {
  principal: 'remediator',
  probe: 'apply',
  shows: 'apply of a kitchen-sink user fails naming it',
  check: fails,
  prepare: forApply,
};

const restoreDeletedFails: Need = {
  principal: 'remediator',
  probe: 'restore-deleted',
  shows: 'restore of a deleted kitchen-sink user fails naming it',
  check: fails,
  prepare: forRestoreDeleted,
};

const restoreDisabledFails: Need = {
  principal: 'remediator',
  probe: 'restore-disabled',
  shows: 'restore of a disabled kitchen-sink user fails naming it',
  check: fails,
  prepare: forRestoreDisabled,
};

const roleApplyFails: Need = {
  principal: 'remediator',
  probe: 'apply-role',
  shows: 'apply (quarantine, then delete) of a role fails naming it',
  check: fails,
  prepare: forRoleApply,
};

const roleRestoreDeletedFails: Need = {
  principal: 'remediator',
  probe: 'restore-role-deleted',
  shows: 'restore of a deleted role fails naming it',
  check: fails,
  prepare: forRoleRestoreDeleted,
};

const evidence = (source: 'cloudtrail' | 'access-advisor'): Need => ({
  principal: 'remediator',
  probe: 'evidence',
  shows: `review evidence: ${source} unavailable, naming it`,
  check: unavailable(source),
});

const exportFails: Need = {
  principal: 'exporter',
  probe: 'export-cli',
  shows: '`dormant export securityhub` exits 3 with one line naming it',
  check: failsInCli(),
};

/** Each printed action, and one or more commands that show it is needed. */
export const NEEDS: Record<string, Need | Need[]> = {
  // ---- scan (the scan policy; remediate and export include it)
  'iam:GenerateCredentialReport': scanner(
    'scan-report',
    'the report AWS already has is read, with a warning; same verdicts',
    warns(/AWS denied iam:GenerateCredentialReport; reading the report AWS already has/, true),
  ),
  'iam:GetCredentialReport': [
    scanner('scan-cli', '`dormant scan --source report` exits 3 with one line naming it', failsInCli()),
    scanner(
      'scan-auto',
      'the default source switches to the API with a warning; same verdicts',
      warns(
        /^AWS denied iam:GetCredentialReport[^\n]*; switched to the API source \(more calls, same verdicts\)$/,
        true,
      ),
    ),
  ],
  'iam:ListUsers': scanner('scan-api', 'the API source fails naming it', fails),
  // Also what maps report slots to key ids (scan --key-ids, and plan for the keys it acts on);
  // this world's plan acts on no key of an otherwise active user, so the API source shows it.
  'iam:ListAccessKeys': scanner('scan-api', 'the API source fails naming it', fails),
  'iam:GetAccessKeyLastUsed': scanner(
    'scan-report',
    'the report source fails naming it (two keys created in the same second need it)',
    fails,
  ),
  'iam:GetLoginProfile': scanner('scan-api', 'the API source fails naming it', fails),
  // Tags come from GetAccountAuthorizationDetails pages when there are more flagged users than
  // pages (this world: one page): ListUserTags is the fallback when that is denied, and the cheaper
  // call in big accounts with few findings (test/scan-cost-proxy.test.ts shows the fallback). Taken
  // away here, nothing may change: the tag exemption still holds, without a warning.
  'iam:ListUserTags': scanner(
    'scan-report',
    'nothing changes while GetAccountAuthorizationDetails serves the tags (same verdicts, exempt-ed exempt)',
    (seen, _action, baseline) => {
      if (!seen.ok) return `it failed: ${seen.message}`;
      if (seen.warnings.some((w) => /ListUserTags/.test(w))) return `a warning: ${seen.warnings.join(' | ')}`;
      if (JSON.stringify(verdicts(seen.scan!)) !== JSON.stringify(baseline)) return 'the verdicts changed';
      return seen.scan!.identities.find((i) => i.name === 'exempt-ed')?.state === 'exempt'
        ? null
        : 'exempt-ed is no longer exempt';
    },
  ),
  'iam:GetAccountAuthorizationDetails': scanner(
    'scan-report',
    'a warning naming it: roles are not scanned, users are',
    warns(/AWS denied iam:GetAccountAuthorizationDetails [^\n]*IAM roles were not scanned/, false),
  ),

  // ---- apply: re-check, backup, disable, delete
  'iam:GetUser': applyFails,
  'iam:ListGroupsForUser': applyFails,
  'iam:ListAttachedUserPolicies': applyFails,
  'iam:ListUserPolicies': applyFails,
  'iam:GetUserPolicy': applyFails,
  'iam:ListMFADevices': applyFails,
  'iam:ListSSHPublicKeys': applyFails,
  'iam:GetSSHPublicKey': applyFails,
  'iam:ListSigningCertificates': applyFails,
  'iam:ListServiceSpecificCredentials': applyFails,
  'iam:UpdateAccessKey': applyFails,
  'iam:DeleteLoginProfile': applyFails,
  'iam:DeleteAccessKey': applyFails,
  'iam:DeleteSigningCertificate': applyFails,
  'iam:DeleteSSHPublicKey': applyFails,
  'iam:DeleteServiceSpecificCredential': applyFails,
  'iam:DeactivateMFADevice': applyFails,
  'iam:DeleteVirtualMFADevice': applyFails,
  'iam:DeleteUserPolicy': applyFails,
  'iam:DetachUserPolicy': applyFails,
  'iam:RemoveUserFromGroup': applyFails,
  'iam:DeleteUser': {
    principal: 'remediator',
    probe: 'apply-cli',
    shows: '`dormant apply` exits 3 with a "failed:" line naming it',
    check: failsInCli(true),
    prepare: forApply,
  },

  // ---- restore
  'iam:CreateUser': {
    principal: 'remediator',
    probe: 'restore-deleted-cli',
    shows: '`dormant restore` of a deleted user exits 3 with one line naming it',
    check: failsInCli(),
    prepare: forRestoreDeleted,
  },
  'iam:AddUserToGroup': restoreDeletedFails,
  'iam:AttachUserPolicy': restoreDeletedFails,
  'iam:PutUserPolicy': restoreDeletedFails,
  'iam:CreateLoginProfile': restoreDeletedFails,
  'iam:UploadSSHPublicKey': restoreDeletedFails,
  'iam:UpdateSSHPublicKey': restoreDeletedFails,
  'iam:UploadSigningCertificate': restoreDeletedFails,
  'iam:UpdateSigningCertificate': restoreDeletedFails,
  'iam:TagUser': restoreDisabledFails,
  'iam:PutUserPermissionsBoundary': restoreDisabledFails,

  // ---- roles: re-check, backup, quarantine, delete, restore
  'iam:GetRole': roleApplyFails,
  'iam:ListRolePolicies': roleApplyFails,
  'iam:GetRolePolicy': roleApplyFails,
  'iam:ListAttachedRolePolicies': roleApplyFails,
  'iam:ListInstanceProfilesForRole': roleApplyFails,
  'iam:PutRolePolicy': roleApplyFails,
  'iam:DeleteRolePolicy': [
    roleApplyFails,
    {
      principal: 'remediator',
      probe: 'restore-role-disabled',
      shows: 'restore of a quarantined role (the quarantine is removed) fails naming it',
      check: fails,
      prepare: forRoleRestoreDisabled,
    },
  ],
  'iam:DetachRolePolicy': roleApplyFails,
  'iam:RemoveRoleFromInstanceProfile': roleApplyFails,
  'iam:DeleteRole': roleApplyFails,
  'iam:CreateRole': roleRestoreDeletedFails,
  'iam:AttachRolePolicy': roleRestoreDeletedFails,
  'iam:GetInstanceProfile': roleRestoreDeletedFails,
  'iam:AddRoleToInstanceProfile': roleRestoreDeletedFails,
  'iam:CreateInstanceProfile': {
    principal: 'remediator',
    probe: 'restore-role-deleted',
    shows: 'restore of a deleted role whose instance profile is gone too fails naming it',
    check: fails,
    prepare: forRoleRestoreNoProfile,
  },
  'iam:TagRole': {
    principal: 'remediator',
    probe: 'restore-role-deleted',
    shows: 'only real AWS: CreateRole with Tags is also authorized as iam:TagRole',
    check: onlyRealAws(
      'restore recreates a role with its tags in CreateRole; AWS authorizes tags on create as iam:TagRole, moto checks iam:CreateRole only',
    ),
    prepare: forRoleRestoreDeleted,
  },
  'iam:PassRole': {
    principal: 'remediator',
    probe: 'restore-role-deleted',
    shows: 'only real AWS: AddRoleToInstanceProfile also needs iam:PassRole on the role',
    check: onlyRealAws(
      'AWS lists iam:PassRole as a dependent action of AddRoleToInstanceProfile (restore puts the role back into its instance profile); moto checks the called action only',
    ),
    prepare: forRoleRestoreDeleted,
  },

  // ---- review evidence (optional: missing → "unavailable")
  'cloudtrail:LookupEvents': evidence('cloudtrail'),
  'iam:GenerateServiceLastAccessedDetails': evidence('access-advisor'),
  'iam:GetServiceLastAccessedDetails': evidence('access-advisor'),

  // ---- export
  'securityhub:BatchImportFindings': exportFails,
  'securityhub:GetFindings': exportFails,
};
