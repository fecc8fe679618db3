// The role scan's GetAccountAuthorizationDetails paging (moto answers in one page, so an IAM
// client whose send() serves pages stands in for AWS here), the warning when it is denied, and
// what turns the role scan off.
import { GetAccountAuthorizationDetailsCommand, IAMClient, type RoleDetail } from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudError } from '../../errors.js';
import { parseConfig } from '../../config/config.js';
import { collectRoles, scanRoles } from './aws-role-scan.js';

const ACCOUNT = '123456789012';
const settings = { endpointUrl: null, concurrency: 1 } as never;
const clients: IAMClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

function detail(i: number): RoleDetail {
  return {
    RoleName: `role-${i}`,
    Arn: `arn:aws:iam::${ACCOUNT}:role/role-${i}`,
    Path: '/',
    CreateDate: new Date('2024-01-01T00:00:00Z'),
    AssumeRolePolicyDocument: encodeURIComponent(
      JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' }] }),
    ),
    RoleLastUsed: {},
    Tags: [],
    RolePolicyList: [],
    InstanceProfileList: [],
  };
}

/** An IAM client answering GetAccountAuthorizationDetails with `pages`, recording each request. */
function pagingClient(pages: RoleDetail[][], inputs: unknown[], fail?: Error): IAMClient {
  const iam = new IAMClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  clients.push(iam);
  iam.send = ((command: GetAccountAuthorizationDetailsCommand) => {
    expect(command).toBeInstanceOf(GetAccountAuthorizationDetailsCommand);
    inputs.push({ ...command.input });
    if (fail) return Promise.reject(fail);
    const at = command.input.Marker === undefined ? 0 : Number(command.input.Marker.replace('m', ''));
    const last = at === pages.length - 1;
    return Promise.resolve({
      RoleDetailList: pages[at],
      IsTruncated: !last,
      ...(last ? {} : { Marker: `m${at + 1}` }),
      $metadata: {},
    });
  }) as never;
  return iam;
}

describe('collectRoles', () => {
  it('pages GetAccountAuthorizationDetails, filtered to roles, 1000 at a time, to the last page', async () => {
    const inputs: unknown[] = [];
    const pages = [
      Array.from({ length: 1000 }, (_, i) => detail(i)),
      Array.from({ length: 1000 }, (_, i) => detail(1000 + i)),
      [detail(2000)],
    ];
    const { identities, warnings } = await collectRoles({ iam: pagingClient(pages, inputs), settings });
    expect(warnings).toEqual([]);
    expect(identities).toHaveLength(2001);
    expect(new Set(identities.map((i) => i.id)).size).toBe(2001);
    expect(inputs).toEqual([
      { Filter: ['Role'], MaxItems: 1000, Marker: undefined },
      { Filter: ['Role'], MaxItems: 1000, Marker: 'm1' },
      { Filter: ['Role'], MaxItems: 1000, Marker: 'm2' },
    ]);
  });

  it('says in one warning that roles were not scanned when AWS denies the call', async () => {
    const denied = Object.assign(
      new Error('User: x is not authorized to perform: iam:GetAccountAuthorizationDetails'),
      {
        name: 'AccessDenied',
      },
    );
    const { identities, warnings } = await collectRoles({ iam: pagingClient([], [], denied), settings });
    expect(identities).toEqual([]);
    expect(warnings).toEqual([
      "AWS denied iam:GetAccountAuthorizationDetails (AccessDenied): IAM roles were not scanned; grant it ('dormant permissions') or turn off rules.unused-role",
    ]);
  });

  it('fails the scan on any other error, naming the call', async () => {
    const broken = Object.assign(new Error('boom'), { name: 'ServiceFailure', $metadata: { httpStatusCode: 500 } });
    const err = await collectRoles({ iam: pagingClient([], [], broken), settings }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect((err as Error).message).toMatch(/^AWS failed iam:GetAccountAuthorizationDetails with HTTP 500/);
  });
});

describe('scanRoles', () => {
  it('is on unless DORMANT-AWS-006 is turned off, by name or by id', () => {
    expect(scanRoles(parseConfig({}))).toBe(true);
    expect(scanRoles(parseConfig({ rules: { 'unused-role': { enabled: false } } }))).toBe(false);
    expect(scanRoles(parseConfig({ rules: { 'DORMANT-AWS-006': { enabled: false } } }))).toBe(false);
    expect(
      scanRoles(parseConfig({ rules: { 'unused-role': { enabled: false }, 'DORMANT-AWS-006': { enabled: true } } })),
    ).toBe(true);
    expect(scanRoles(parseConfig({ rules: { 'unused-role': { days: 30 } } }))).toBe(true);
  });
});
