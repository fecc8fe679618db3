/**
 * The accounts of an AWS Organization that an `--org` run covers (DESIGN §8): every account
 * (ListAccounts, paged), the organizational units above each (walked from the root only when an
 * include/exclude entry names an OU), narrowed by include/exclude. ACTIVE accounts are scanned;
 * suspended and closing ones are listed as skipped, never silently dropped.
 */
import {
  DescribeOrganizationCommand,
  type OrganizationsClient,
  paginateListAccounts,
  paginateListAccountsForParent,
  paginateListOrganizationalUnitsForParent,
  paginateListRoots,
} from '@aws-sdk/client-organizations';
import { CloudError } from '../../errors.js';
import { globToRegExp } from '../../engine/glob.js';
import type { AwsSettings } from './aws-client.js';
import { errorName, toCloudError } from './aws-errors.js';

export interface OrgAccount {
  id: string;
  name: string;
  /** ACTIVE, SUSPENDED, PENDING_CLOSURE (AWS's Account.Status / State). */
  status: string;
  /** The root and OU ids above the account, nearest last; empty when the tree was not read. */
  parents: string[];
}

export interface OrgListing {
  managementId: string;
  /** ACTIVE accounts the include/exclude lists keep, the management account first. */
  accounts: OrgAccount[];
  /** Accounts the lists keep that cannot be scanned (suspended, closing), with why. */
  skipped: { account: string; reason: string }[];
  /** Organizations calls made. */
  calls: number;
}

export interface OrgSelection {
  include: readonly string[];
  exclude: readonly string[];
}

const isTreeId = (s: string): boolean => /^(ou|r)-/.test(s);

/** True when `account` matches one entry: its id, its name (glob), or an OU/root above it. */
function matches(account: OrgAccount, entry: string): boolean {
  if (/^\d{12}$/.test(entry)) return account.id === entry;
  if (isTreeId(entry)) return account.parents.includes(entry);
  return globToRegExp(entry).test(account.name);
}

export function selectAccounts(accounts: readonly OrgAccount[], selection: OrgSelection): OrgAccount[] {
  return accounts.filter(
    (a) =>
      (selection.include.length === 0 || selection.include.some((e) => matches(a, e))) &&
      !selection.exclude.some((e) => matches(a, e)),
  );
}

function orgError(err: unknown, operation: string, settings: AwsSettings): CloudError {
  const name = errorName(err);
  if (name === 'AWSOrganizationsNotInUseException') {
    return new CloudError(
      "the caller's account is not in an AWS Organization; drop --org (and aws.organization.enabled) to scan this account alone",
      name,
    );
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return new CloudError(
      `AWS denied ${operation} (AccessDenied); run --org with credentials of the management account (or a delegated administrator) that hold the policy 'dormant permissions --org' prints`,
      'AccessDenied',
    );
  }
  return toCloudError(err, operation, settings);
}

/** The parents of every account, walking the tree from each root: two listings per OU. */
async function readParents(org: OrganizationsClient, counter: () => void): Promise<Map<string, string[]>> {
  const parents = new Map<string, string[]>();
  const walk = async (parentId: string, above: string[]): Promise<void> => {
    const here = [...above, parentId];
    for await (const page of paginateListAccountsForParent({ client: org }, { ParentId: parentId })) {
      counter();
      for (const a of page.Accounts ?? []) if (a.Id) parents.set(a.Id, here);
    }
    const children: string[] = [];
    for await (const page of paginateListOrganizationalUnitsForParent({ client: org }, { ParentId: parentId })) {
      counter();
      for (const ou of page.OrganizationalUnits ?? []) if (ou.Id) children.push(ou.Id);
    }
    await Promise.all(children.map((c) => walk(c, here)));
  };
  for await (const page of paginateListRoots({ client: org }, {})) {
    counter();
    for (const root of page.Roots ?? []) if (root.Id) await walk(root.Id, []);
  }
  return parents;
}

export async function listOrgAccounts(
  org: OrganizationsClient,
  selection: OrgSelection,
  settings: AwsSettings,
): Promise<OrgListing> {
  let calls = 0;
  const count = (): void => {
    calls++;
  };
  let managementId: string;
  try {
    count();
    const out = await org.send(new DescribeOrganizationCommand({}));
    managementId = out.Organization?.MasterAccountId ?? '';
  } catch (err) {
    throw orgError(err, 'organizations:DescribeOrganization', settings);
  }
  const all: OrgAccount[] = [];
  try {
    for await (const page of paginateListAccounts({ client: org }, {})) {
      count();
      for (const a of page.Accounts ?? []) {
        if (!a.Id) continue;
        // State (2025) supersedes Status; either says whether the account can be entered.
        const state = (a as { State?: string }).State ?? a.Status ?? 'UNKNOWN';
        all.push({ id: a.Id, name: a.Name ?? a.Id, status: state, parents: [] });
      }
    }
  } catch (err) {
    throw orgError(err, 'organizations:ListAccounts', settings);
  }
  if ([...selection.include, ...selection.exclude].some(isTreeId)) {
    let parents: Map<string, string[]>;
    try {
      parents = await readParents(org, count);
    } catch (err) {
      throw orgError(err, 'organizations:ListOrganizationalUnitsForParent', settings);
    }
    for (const a of all) a.parents = parents.get(a.id) ?? [];
  }
  const kept = selectAccounts(all, selection);
  const accounts: OrgAccount[] = [];
  const skipped: OrgListing['skipped'] = [];
  for (const a of kept) {
    if (a.status === 'ACTIVE') accounts.push(a);
    else skipped.push({ account: a.id, reason: `account ${a.name} is ${a.status.toLowerCase().replace('_', ' ')}` });
  }
  accounts.sort((x, y) => Number(y.id === managementId) - Number(x.id === managementId) || x.id.localeCompare(y.id));
  return { managementId, accounts, skipped, calls };
}
