// The engine's side of DESIGN §7, in-process: which identities the scan asks a provider to
// resolve key ids for (`resolveKeys`), and that tags are read before, so an identity a tag
// exempts costs no key lookup. A fake provider records every enrich request.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/config.js';
import type { Identity, Inventory } from '../src/model/identity.js';
import type { EnrichRequest, ScanProvider } from '../src/providers/provider.js';
import { type ResolveKeys, scan } from '../src/engine/scan.js';
import { buildPlan } from '../src/engine/plan.js';
import { describersFor } from '../src/providers/registry.js';
import { accessKey, awsUser, password, TEST_ACCOUNT } from './support/identities.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const ago = (days: number) => new Date(NOW.getTime() - days * 86_400_000).toISOString();

/** A user who signs in daily, with a never-used key in report slot 1 older than the window. */
function keyed(name: string, extra: Partial<Identity> = {}): Identity {
  return awsUser(name, ago(400), {
    credentials: [
      password({ createdAt: ago(400), lastUse: 'used', lastUsedAt: ago(1) }),
      accessKey({ handle: 'access_key_1', createdAt: ago(150), lastUse: 'never', lastUsedAt: null }),
    ],
    ...extra,
  });
}

/** Nothing used for 300 days: an identity-level verdict, which subsumes its key actions. */
function stale(name: string): Identity {
  return awsUser(name, ago(500), {
    credentials: [
      password({ createdAt: ago(500), lastUse: 'used', lastUsedAt: ago(300) }),
      accessKey({ handle: 'access_key_1', createdAt: ago(400), lastUse: 'used', lastUsedAt: ago(300) }),
    ],
  });
}

/** A well-formed AWS key id per user (slot 1 only in this world). */
const keyId = (name: string) =>
  `AKIA${name
    .toUpperCase()
    .replace(/[^A-Z]/g, '')
    .padEnd(15, '0')}1`;

class FakeReportProvider implements ScanProvider {
  readonly name = 'fake';
  readonly requests: { tags: string[]; unresolved: string[] }[] = [];
  constructor(
    private readonly identities: Identity[],
    private readonly tags: Record<string, Record<string, string>>,
  ) {}

  async collect(): Promise<Inventory> {
    return {
      provider: 'aws',
      source: 'credential-report',
      accounts: [TEST_ACCOUNT],
      dataAsOf: NOW.toISOString(),
      caller: { arn: 'arn:aws:iam::123456789012:user/dormant', account: TEST_ACCOUNT },
      identities: structuredClone(this.identities),
      warnings: [],
    };
  }

  async enrich(request: EnrichRequest): Promise<string[]> {
    this.requests.push({ tags: request.tags.map((i) => i.name), unresolved: request.unresolved.map((i) => i.name) });
    for (const i of request.tags) i.tags = this.tags[i.name] ?? {};
    for (const i of request.unresolved) {
      for (const c of i.credentials) if (c.handle) c.id = keyId(i.name);
    }
    return [];
  }
}

function world() {
  return new FakeReportProvider(
    [
      keyed('alice'),
      keyed('bob'),
      keyed('tagged'),
      keyed('globbed'),
      keyed('root-ish', { protectedReason: 'the root user' }),
      stale('carol'),
    ],
    { tagged: { 'dormant:exempt': 'true' } },
  );
}

const config = parseConfig({ exempt: { users: ['globbed'] } });

async function run(resolveKeys: ResolveKeys) {
  const provider = world();
  const result = await scan(provider, { config, now: NOW, resolveKeys });
  const resolved = provider.requests.flatMap((r) => r.unresolved).sort();
  return { provider, result, resolved };
}

describe('which keys the scan resolves', () => {
  it('none: one enrich call for tags only; keys keep their slot', async () => {
    const { provider, result } = await run('none');
    expect(provider.requests).toEqual([
      // globbed: exempt by config, so it has no hits and no tags to read.
      { tags: ['alice', 'bob', 'tagged', 'root-ish', 'carol'], unresolved: [] },
    ]);
    const alice = result.findings.filter((f) => f.identityName === 'alice');
    expect(alice.map((f) => [f.ruleId, f.credentialId, f.credentialSlot, f.credentialCreatedAt])).toEqual([
      ['DORMANT-AWS-002', 'access_key_1', 'access_key_1', ago(150)],
      ['DORMANT-AWS-005', 'access_key_1', 'access_key_1', ago(150)],
    ]);
  });

  it('all: every non-exempt identity with a slot-named key finding, after its tags are known', async () => {
    const { provider, result, resolved } = await run('all');
    expect(provider.requests[0]!.unresolved).toEqual([]);
    expect(resolved).toEqual(['alice', 'bob', 'carol', 'root-ish']);
    const alice = result.findings.find((f) => f.identityName === 'alice' && f.ruleId === 'DORMANT-AWS-002')!;
    expect([alice.credentialId, alice.credentialSlot]).toEqual([keyId('alice'), 'access_key_1']);
    expect(alice.message).toContain(keyId('alice'));
    expect(alice.credentialHandle).toBeUndefined();
  });

  it('actions: only identities buildPlan gives a key action, and the plan names every key by id', async () => {
    const { result, resolved } = await run('actions');
    // Not the tag- or config-exempt, not the protected one, not carol (disabled as a whole).
    expect(resolved).toEqual(['alice', 'bob']);
    const { plan, notes } = buildPlan({
      result,
      config,
      planId: 'pl-cost',
      scanId: 'sc-cost',
      createdBy: 'tester',
      now: NOW,
      describers: describersFor(config),
      openItems: [],
      snoozed: new Map(),
    });
    const keyItems = plan.items.filter((i) => i.action === 'deactivate-key');
    expect(keyItems.map((i) => [i.identityName, i.credentialId])).toEqual([
      ['alice', keyId('alice')],
      ['bob', keyId('bob')],
    ]);
    expect(plan.items.filter((i) => i.identityName === 'carol').map((i) => i.action)).toContain('disable-user');
    // Nothing was left unplanned for want of an id.
    expect(notes.filter((n) => /known only as/.test(n))).toEqual([]);
  });
});
