/**
 * Reviews in Slack: a message per plan item (or per plan, batched) with Approve / Deny /
 * Snooze buttons; clicks from the configured approvers become decisions through `decide()`;
 * messages follow every decision, wherever it was made (CLI, Jira, Slack, expiry); owners may
 * be told by DM before their access is disabled.
 *
 * What was posted is recorded in the store (`review_messages`, `owner_notifications`), so a
 * restart never posts a message or a DM twice. Tokens never reach an error message or a log.
 */
import { WebClient, type WebClientOptions } from '@slack/web-api';
import type { Config } from '../../config/config.js';
import { decide } from '../../engine/decide.js';
import { CloudError, UsageError } from '../../errors.js';
import type { PlanItem } from '../../model/plan.js';
import { approvalsFor, getItem } from '../../store/plans.js';
import {
  type ReviewMessage,
  type ReviewView,
  getMessage,
  getTicket,
  markRequested,
  messagesForPlan,
  ownerNotified,
  reviewViews,
  saveMessage,
  saveOwnerNotification,
  staleMessages,
} from '../../store/review.js';
import type { Store } from '../../store/store.js';
import { readSecret } from '../secrets.js';
import { redactSecrets, slackApiBase, slackErrorCode } from './slack-errors.js';
import { ownerText } from './slack-owner-text.js';
import {
  ACTION_IDS,
  PLAN_ITEMS_PER_MESSAGE,
  SNOOZE_DAYS,
  type SlackBlock,
  actorMention,
  escapeMrkdwn,
  fallbackText,
  formatTime,
  itemMessageBlocks,
  planBlocks,
  truncate,
} from './slack-blocks.js';

export type SlackSettings = Config['slack'];

/** The part of a `block_actions` interactivity payload this module reads. */
export interface BlockActionsPayload {
  type: string;
  user: { id: string; username?: string; name?: string; team_id?: string };
  actions?: { action_id: string; block_id?: string; value?: string; type?: string; action_ts?: string }[];
  channel?: { id: string; name?: string };
  message?: { ts: string };
  container?: { type?: string; message_ts?: string; channel_id?: string };
  response_url?: string;
  trigger_id?: string;
}

export type ActionOutcome =
  | { outcome: 'decided'; itemId: string; status: PlanItem['status']; by: string; messageUpdated: boolean }
  | { outcome: 'refused'; userId: string }
  | { outcome: 'already'; itemId: string; status: PlanItem['status'] }
  | { outcome: 'unknown'; itemId: string }
  | { outcome: 'ignored'; why: string };

export interface SlackReviewOptions {
  /** Where warnings go (a failed message update, an owner that could not be told). Secrets are redacted. */
  log?: (line: string) => void;
  now?: () => Date;
}

/** Slack errors that will not get better by retrying the same message update. */
const PERMANENT_UPDATE_ERRORS = new Set([
  'message_not_found',
  'channel_not_found',
  'cant_update_message',
  'edit_window_closed',
  'is_archived',
  'not_in_channel',
]);

export class SlackReview {
  private readonly log: (line: string) => void;
  private readonly now: () => Date;

  constructor(
    private readonly store: Store,
    private readonly settings: SlackSettings,
    private readonly client: WebClient,
    options: SlackReviewOptions = {},
  ) {
    this.log = options.log ?? (() => undefined);
    this.now = options.now ?? (() => new Date());
  }

  /** Read the bot token (env or file) and build the client; the token stays inside the client. */
  static fromConfig(store: Store, config: Config, options: SlackReviewOptions = {}): SlackReview {
    const settings = config.slack;
    const token = readSecret(settings.botToken, 'Slack bot token', 'slack.botToken');
    const clientOptions: WebClientOptions = {
      slackApiUrl: slackApiBase(settings.apiUrl),
      retryConfig: { retries: 2 },
    };
    return new SlackReview(store, settings, new WebClient(token, clientOptions), options);
  }

  private fail(method: string, err: unknown): CloudError {
    const code = slackErrorCode(err);
    const hint =
      code === 'invalid_auth' || code === 'not_authed' || code === 'token_revoked' || code === 'account_inactive'
        ? '; check the bot token named by slack.botToken'
        : code === 'channel_not_found' || code === 'not_in_channel'
          ? '; check slack.channel and invite the app to the channel'
          : code === 'missing_scope'
            ? '; add the missing scope to the Slack app and reinstall it'
            : '';
    return new CloudError(redactSecrets(`Slack ${method} failed: ${code}${hint}`), 'SlackError');
  }

  private warn(line: string): void {
    this.log(redactSecrets(line));
  }

  private channel(): string {
    if (!this.settings.channel) {
      throw new UsageError('slack.channel is not set; put the id (C…) of the review channel in the config');
    }
    return this.settings.channel;
  }

  // ---- review requests ---------------------------------------------------------------------

  /**
   * Post the review request: one message per item, or one per plan with `batch: plan` (split
   * in parts of PLAN_ITEMS_PER_MESSAGE items). Items that already have a message are skipped,
   * so calling this again (or after a restart) posts nothing twice.
   */
  async requestReview(
    planId: string,
    views: ReviewView[],
    ticketUrl: string | null,
  ): Promise<{ posted: number; skipped: number }> {
    const channel = this.channel();
    const fresh: ReviewView[] = [];
    for (const view of views) {
      if (view.item.planId !== planId) throw new Error(`item ${view.item.id} is not in plan ${planId}`);
      if (!(await getMessage(this.store.db, view.item.id))) fresh.push(view);
    }
    const skipped = views.length - fresh.length;
    let posted = 0;
    const snoozes = new Map<string, string>();
    if (this.settings.batch === 'plan') {
      const total = Math.ceil(fresh.length / PLAN_ITEMS_PER_MESSAGE);
      for (let i = 0; i < fresh.length; i += PLAN_ITEMS_PER_MESSAGE) {
        const chunk = fresh.slice(i, i + PLAN_ITEMS_PER_MESSAGE);
        const blocks = planBlocks(planId, chunk, ticketUrl, {
          snoozes,
          part: { index: i / PLAN_ITEMS_PER_MESSAGE + 1, total },
        });
        const at = await this.post(channel, fallbackText(chunk), blocks);
        for (const v of chunk) {
          await saveMessage(this.store.db, {
            itemId: v.item.id,
            planId,
            channel: at.channel,
            ts: at.ts,
            renderedStatus: v.item.status,
          });
        }
        await markRequested(
          this.store.db,
          chunk.map((v) => v.item.id),
          this.now().toISOString(),
        );
        posted++;
      }
    } else {
      for (const view of fresh) {
        const at = await this.post(channel, fallbackText([view]), itemMessageBlocks(view, ticketUrl));
        await saveMessage(this.store.db, {
          itemId: view.item.id,
          planId,
          channel: at.channel,
          ts: at.ts,
          renderedStatus: view.item.status,
        });
        await markRequested(this.store.db, [view.item.id], this.now().toISOString());
        posted++;
      }
    }
    return { posted, skipped };
  }

  private async post(channel: string, text: string, blocks: SlackBlock[]): Promise<{ channel: string; ts: string }> {
    let res;
    try {
      res = await this.client.chat.postMessage({ channel, text, blocks, unfurl_links: false, unfurl_media: false });
    } catch (err) {
      throw this.fail('chat.postMessage', err);
    }
    if (!res.ts) throw new CloudError('Slack chat.postMessage returned no message timestamp', 'SlackError');
    // Slack answers with the channel id even when given a name; chat.update needs the id.
    return { channel: res.channel ?? channel, ts: res.ts };
  }

  // ---- message updates ---------------------------------------------------------------------

  /**
   * Update every message whose item changed status since it was rendered: decisions made in
   * the CLI, in Jira, by expiry, and the outcome of apply. Messages that can no longer be
   * edited are marked as rendered (and logged); other failures are retried next time.
   */
  async refreshMessages(): Promise<{ updated: number }> {
    const stale = await staleMessages(this.store.db);
    const seen = new Set<string>();
    let updated = 0;
    const failures: string[] = [];
    for (const m of stale) {
      const key = `${m.channel}\u0000${m.ts}`;
      if (seen.has(key)) continue;
      seen.add(key);
      try {
        await this.updateMessage(m);
        updated++;
      } catch (err) {
        if (err instanceof CloudError) failures.push(err.message);
        else throw err;
      }
    }
    if (failures.length > 0) {
      throw new CloudError(
        `${failures.length} Slack message(s) could not be updated; they are retried next cycle: ${[...new Set(failures)].join('; ')}`,
        'SlackError',
      );
    }
    return { updated };
  }

  /** Re-render one message (all the items it shows) from the store, and record what it shows. */
  private async updateMessage(m: ReviewMessage): Promise<void> {
    const db = this.store.db;
    const siblings = (await messagesForPlan(db, m.planId)).filter((s) => s.ts === m.ts && s.channel === m.channel);
    const items: PlanItem[] = [];
    for (const s of siblings.length > 0 ? siblings : [m]) {
      const item = await getItem(db, s.itemId);
      if (item) items.push(item);
    }
    if (items.length === 0) return;
    items.sort((a, b) => a.seq - b.seq);
    const views = await reviewViews(db, items, this.settings.ownerTag);
    const snoozes = new Map<string, string>();
    for (const a of await approvalsFor(db, m.planId)) {
      // The latest decision on an item wins; only a deny carries a snooze.
      if (a.decision === 'deny' && a.snooze_until) snoozes.set(a.item_id, a.snooze_until);
      else snoozes.delete(a.item_id);
    }
    const single = items.length === 1 && this.settings.batch === 'item';
    const ticket = single
      ? ((await getTicket(db, `item:${items[0]!.id}`)) ?? (await getTicket(db, `plan:${m.planId}`)))
      : await getTicket(db, `plan:${m.planId}`);
    const ticketUrl = ticket?.url ?? null;
    const blocks = single
      ? itemMessageBlocks(views[0]!, ticketUrl, snoozes.get(items[0]!.id) ?? null)
      : planBlocks(m.planId, views, ticketUrl, { snoozes });
    try {
      await this.client.chat.update({ channel: m.channel, ts: m.ts, text: fallbackText(views), blocks });
    } catch (err) {
      const code = slackErrorCode(err);
      if (!PERMANENT_UPDATE_ERRORS.has(code)) throw this.fail('chat.update', err);
      this.warn(`Slack message ${m.ts} in ${m.channel} cannot be updated any more (${code}); leaving it as it is`);
    }
    for (const item of items) {
      await saveMessage(db, {
        itemId: item.id,
        planId: item.planId,
        channel: m.channel,
        ts: m.ts,
        renderedStatus: item.status,
      });
    }
  }

  // ---- clicks ------------------------------------------------------------------------------

  /**
   * Handle a `block_actions` payload (HTTP or Socket Mode). Only configured approvers decide;
   * anyone else gets an ephemeral refusal and nothing changes.
   */
  async handleAction(payload: BlockActionsPayload): Promise<ActionOutcome> {
    if (payload?.type !== 'block_actions') return { outcome: 'ignored', why: `payload type ${String(payload?.type)}` };
    const action = payload.actions?.find((a) => (Object.values(ACTION_IDS) as string[]).includes(a.action_id));
    if (!action) return { outcome: 'ignored', why: 'no dormant action in the payload' };
    const userId = payload.user?.id;
    if (!userId) return { outcome: 'ignored', why: 'payload without a user' };
    const channel = payload.channel?.id ?? payload.container?.channel_id ?? null;

    if (!this.settings.approvers.includes(userId)) {
      const who = this.settings.approvers.map((a) => `<@${escapeMrkdwn(a)}>`).join(', ');
      await this.ephemeral(
        channel,
        userId,
        `Only the configured approvers can decide on dormant reviews${who ? ` (${who})` : ''}. Nothing was changed; ask one of them.`,
      );
      return { outcome: 'refused', userId };
    }

    const itemId = action.value ?? '';
    const item = itemId ? await getItem(this.store.db, itemId) : null;
    if (!item) {
      await this.ephemeral(
        channel,
        userId,
        `dormant does not know the plan item \`${escapeMrkdwn(truncate(itemId, 100, '…'))}\`; it may come from another dormant installation. Nothing was changed.`,
      );
      return { outcome: 'unknown', itemId };
    }
    if (item.status !== 'pending') {
      await this.ephemeral(channel, userId, alreadyText(item));
      await this.refreshItem(item.id, payload).catch(() => undefined);
      return { outcome: 'already', itemId: item.id, status: item.status };
    }

    const snooze = action.action_id === ACTION_IDS.snooze;
    const decision = action.action_id === ACTION_IDS.approve ? 'approve' : 'deny';
    const name = payload.user.username ?? payload.user.name ?? userId;
    const by = `slack:${name} (${userId})`;
    const result = await decide(this.store, {
      planId: item.planId,
      items: [item.id],
      all: false,
      decision,
      by,
      reason: snooze ? `snoozed for ${SNOOZE_DAYS} days in Slack` : null,
      channel: 'slack',
      ...(snooze ? { snoozeDays: SNOOZE_DAYS } : {}),
      now: this.now(),
    });
    const changed = result.changed[0];
    if (!changed) {
      // Someone else decided between our read and the transaction.
      const current = (await getItem(this.store.db, item.id)) ?? item;
      await this.ephemeral(channel, userId, alreadyText(current));
      await this.refreshItem(item.id, payload).catch(() => undefined);
      return { outcome: 'already', itemId: item.id, status: current.status };
    }
    let messageUpdated = true;
    try {
      await this.refreshItem(item.id, payload);
    } catch (err) {
      // The decision stands; the message is stale and refreshMessages() will retry it.
      messageUpdated = false;
      this.warn(
        `decision recorded, but the Slack message was not updated: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    return { outcome: 'decided', itemId: item.id, status: changed.status, by, messageUpdated };
  }

  /** Update the message that shows this item (the stored one, else the one that was clicked). */
  private async refreshItem(itemId: string, payload: BlockActionsPayload): Promise<void> {
    const stored = await getMessage(this.store.db, itemId);
    if (stored) return this.updateMessage(stored);
    const channel = payload.container?.channel_id ?? payload.channel?.id;
    const ts = payload.container?.message_ts ?? payload.message?.ts;
    const item = await getItem(this.store.db, itemId);
    if (!channel || !ts || !item) return;
    await saveMessage(this.store.db, { itemId, planId: item.planId, channel, ts, renderedStatus: 'pending' });
    const saved = await getMessage(this.store.db, itemId);
    if (saved) await this.updateMessage(saved);
  }

  private async ephemeral(channel: string | null, user: string, text: string): Promise<void> {
    if (!channel) {
      this.warn(`cannot answer ${user} in Slack: the payload names no channel`);
      return;
    }
    try {
      await this.client.chat.postEphemeral({ channel, user, text: truncate(text, 3000, '…') });
    } catch (err) {
      this.warn(this.fail('chat.postEphemeral', err).message);
    }
  }

  // ---- owners ------------------------------------------------------------------------------

  /**
   * Tell owners (the `owner` tag's email) by DM that access will be disabled on `disableDate`
   * unless someone responds. One DM per owner per call, listing their identities; every item
   * is recorded, so nobody is told twice. Owners without a Slack account are recorded as
   * `not-found` and not looked up again.
   */
  async notifyOwners(
    views: ReviewView[],
    disableDate: string,
  ): Promise<{ sent: number; notFound: number; failed: number }> {
    const byOwner = new Map<string, ReviewView[]>();
    for (const view of views) {
      const email = view.owner?.trim().toLowerCase();
      if (!email || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) continue;
      if (view.item.status !== 'pending' || view.item.action === 'notify') continue;
      if (await ownerNotified(this.store.db, view.item.id)) continue;
      byOwner.set(email, [...(byOwner.get(email) ?? []), view]);
    }
    let sent = 0;
    let notFound = 0;
    let failed = 0;
    for (const [email, owned] of byOwner) {
      let userId: string;
      try {
        const res = await this.client.users.lookupByEmail({ email });
        if (!res.user?.id) throw Object.assign(new Error('no user'), { data: { error: 'users_not_found' } });
        userId = res.user.id;
      } catch (err) {
        if (slackErrorCode(err) === 'users_not_found') {
          for (const v of owned)
            await saveOwnerNotification(this.store.db, {
              itemId: v.item.id,
              email,
              slackUser: null,
              status: 'not-found',
            });
          notFound++;
        } else {
          failed++;
          this.warn(`owner ${email} was not told: ${this.fail('users.lookupByEmail', err).message}`);
        }
        continue;
      }
      try {
        const open = await this.client.conversations.open({ users: userId });
        const dm = open.channel?.id ?? userId;
        await this.client.chat.postMessage({
          channel: dm,
          text: ownerText(this.settings, owned, disableDate),
          unfurl_links: false,
        });
      } catch (err) {
        failed++;
        this.warn(`owner ${email} was not told: ${this.fail('chat.postMessage', err).message}`);
        continue;
      }
      for (const v of owned)
        await saveOwnerNotification(this.store.db, { itemId: v.item.id, email, slackUser: userId, status: 'sent' });
      sent++;
    }
    return { sent, notFound, failed };
  }
}

function alreadyText(item: PlanItem): string {
  const by = item.decidedBy ? ` by ${actorMention(item.decidedBy)}` : '';
  const at = item.decidedAt ? ` at ${formatTime(item.decidedAt)}` : '';
  return `This item is already ${item.status}${by}${at}. Nothing was changed.`;
}
