/**
 * Backups of identities, taken before the first change and committed before it. Each is a
 * versioned envelope (model/backup.ts); only its provider reads `data`, validating it on the
 * way back in. Rows written before envelopes existed are AWS user backups, version 1.
 */
import type { BackupEnvelope } from '../model/backup.js';
import type { ProviderName } from '../model/identity.js';
import { type Db, StoreError, newId, nowIso } from './store.js';

export interface StoredBackup {
  id: string;
  provider: ProviderName;
  identityId: string;
  identityName: string;
  account: string;
  planId: string | null;
  itemId: string | null;
  createdAt: string;
  /** Not yet validated: pass it to the provider's readBackup(). */
  envelope: BackupEnvelope<unknown>;
}

export async function saveBackup(
  db: Db,
  b: { backup: BackupEnvelope; planId: string | null; itemId: string | null },
): Promise<string> {
  const id = newId('bk');
  await db
    .insertInto('backups')
    .values({
      id,
      provider: b.backup.provider,
      identity_id: b.backup.identityId,
      identity_name: b.backup.identityName,
      account: b.backup.account,
      plan_id: b.planId,
      item_id: b.itemId,
      created_at: nowIso(),
      data: JSON.stringify(b.backup),
    })
    .execute();
  return id;
}

interface Row {
  id: string;
  provider: string;
  identity_id: string;
  identity_name: string;
  account: string;
  plan_id: string | null;
  item_id: string | null;
  created_at: string;
  data: string;
}

function envelopeOf(r: Row): BackupEnvelope<unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(r.data);
  } catch {
    throw new StoreError(`backup ${r.id} in the store is not valid JSON; it cannot be used for a restore`);
  }
  const o = raw as Partial<BackupEnvelope<unknown>> & { user?: unknown; takenAt?: string };
  if (o && typeof o === 'object' && 'provider' in o && 'data' in o) return o as BackupEnvelope<unknown>;
  // Written before envelopes (an IAM user snapshot with version 1 at the top level).
  return {
    provider: 'aws',
    kind: 'user',
    version: 1,
    takenAt: o?.takenAt ?? r.created_at,
    account: r.account,
    identityId: r.identity_id,
    identityName: r.identity_name,
    data: raw,
  };
}

function fromRow(r: Row): StoredBackup {
  return {
    id: r.id,
    provider: r.provider as ProviderName,
    identityId: r.identity_id,
    identityName: r.identity_name,
    account: r.account,
    planId: r.plan_id,
    itemId: r.item_id,
    createdAt: r.created_at,
    envelope: envelopeOf(r),
  };
}

export async function getBackup(db: Db, id: string): Promise<StoredBackup | null> {
  const r = await db.selectFrom('backups').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? fromRow(r) : null;
}

export async function backupForItem(db: Db, itemId: string): Promise<StoredBackup | null> {
  const r = await db
    .selectFrom('backups')
    .selectAll()
    .where('item_id', '=', itemId)
    .orderBy('created_at')
    .executeTakeFirst();
  return r ? fromRow(r) : null;
}

/** Backups of an identity named by its name or its stable id, newest first. */
export async function backupsForUser(db: Db, nameOrId: string): Promise<StoredBackup[]> {
  const rows = await db
    .selectFrom('backups')
    .selectAll()
    .where((eb) => eb.or([eb('identity_name', '=', nameOrId), eb('identity_id', '=', nameOrId)]))
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map(fromRow);
}

export async function listBackups(db: Db): Promise<StoredBackup[]> {
  const rows = await db.selectFrom('backups').selectAll().orderBy('created_at').execute();
  return rows.map(fromRow);
}
