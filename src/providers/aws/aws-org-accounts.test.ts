import { describe, expect, it } from 'vitest';
import { type OrgAccount, selectAccounts } from './aws-org-accounts.js';

const acct = (id: string, name: string, parents: string[] = []): OrgAccount => ({
  id,
  name,
  status: 'ACTIVE',
  parents,
});
const ACCOUNTS = [
  acct('111111111111', 'management', ['r-ab12']),
  acct('222222222222', 'prod-web', ['r-ab12', 'ou-ab12-prod0001']),
  acct('333333333333', 'prod-db', ['r-ab12', 'ou-ab12-prod0001', 'ou-ab12-data0001']),
  acct('444444444444', 'sandbox-alice', ['r-ab12', 'ou-ab12-sand0001']),
];
const ids = (list: OrgAccount[]) => list.map((a) => a.id);

describe('selectAccounts', () => {
  it('keeps every account when both lists are empty', () => {
    expect(ids(selectAccounts(ACCOUNTS, { include: [], exclude: [] }))).toEqual(ids(ACCOUNTS));
  });

  it('includes by id, by name glob and by OU (an OU takes the accounts of its child OUs too)', () => {
    expect(ids(selectAccounts(ACCOUNTS, { include: ['444444444444'], exclude: [] }))).toEqual(['444444444444']);
    expect(ids(selectAccounts(ACCOUNTS, { include: ['prod-*'], exclude: [] }))).toEqual([
      '222222222222',
      '333333333333',
    ]);
    expect(ids(selectAccounts(ACCOUNTS, { include: ['ou-ab12-prod0001'], exclude: [] }))).toEqual([
      '222222222222',
      '333333333333',
    ]);
    expect(ids(selectAccounts(ACCOUNTS, { include: ['ou-ab12-data0001'], exclude: [] }))).toEqual(['333333333333']);
  });

  it('lets exclude win over include, by id, glob or OU', () => {
    expect(ids(selectAccounts(ACCOUNTS, { include: ['r-ab12'], exclude: ['ou-ab12-sand0001'] }))).toEqual([
      '111111111111',
      '222222222222',
      '333333333333',
    ]);
    expect(ids(selectAccounts(ACCOUNTS, { include: ['prod-*'], exclude: ['*-db'] }))).toEqual(['222222222222']);
    expect(ids(selectAccounts(ACCOUNTS, { include: [], exclude: ['111111111111'] }))).toEqual([
      '222222222222',
      '333333333333',
      '444444444444',
    ]);
  });

  it('does not take a 12-digit entry as a name glob, nor match a name by part', () => {
    expect(ids(selectAccounts(ACCOUNTS, { include: ['prod'], exclude: [] }))).toEqual([]);
    expect(
      ids(selectAccounts([acct('555555555555', '111111111111')], { include: ['111111111111'], exclude: [] })),
    ).toEqual([]);
  });
});
