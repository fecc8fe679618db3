/** Backups of identities, taken before the first change and committed before it. */
import type { UserBackup } from '../model/backup.js';
import { type Db, newId, nowIso } from './store.js';

export interface StoredBackup {
  id: string;
  identityId: string;
  identityName: string;
  account: string;
  planId: string | null;
  itemId: string | null;
  createdAt: string;
  data: UserBackup;
}

export async function saveBackup(
  db: Db,
  b: { identityId: string; backup: UserBackup; planId: string | null; itemId: string | null },
): Promise<string> {
  const id = newId('bk');
  await db
    .insertInto('backups')
    .values({
      id,
      identity_id: b.identityId,
      identity_name: b.backup.user.name,
      account: b.backup.account,
      plan_id: b.planId,
      item_id: b.itemId,
      created_at: nowIso(),
      data: JSON.stringify(b.backup),
    })
    .execute();
  return id;
}

function fromRow(r: {
  id: string;
  identity_id: string;
  identity_name: string;
  account: string;
  plan_id: string | null;
  item_id: string | null;
  created_at: string;
  data: string;
}): StoredBackup {
  return {
    id: r.id,
    identityId: r.identity_id,
    identityName: r.identity_name,
    account: r.account,
    planId: r.plan_id,
    itemId: r.item_id,
    createdAt: r.created_at,
    data: JSON.parse(r.data) as UserBackup,
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

export async function backupsForUser(db: Db, userName: string): Promise<StoredBackup[]> {
  const rows = await db
    .selectFrom('backups')
    .selectAll()
    .where('identity_name', '=', userName)
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map(fromRow);
}

export async function listBackups(db: Db): Promise<StoredBackup[]> {
  const rows = await db.selectFrom('backups').selectAll().orderBy('created_at').execute();
  return rows.map(fromRow);
}
