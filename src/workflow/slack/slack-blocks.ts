/**
 * Block Kit for review messages. Pure functions: a ReviewView in, blocks out. Every piece of
 * text that comes from data (names, tags, reasons, evidence) is escaped for Slack mrkdwn, and
 * every text is kept inside Slack's limits, saying so when it had to be cut.
 */
import { createHash } from 'node:crypto';
import { evidenceSummary } from '../../model/evidence.js';
import type { ItemStatus, PlanItem } from '../../model/plan.js';
import { RULES } from '../../rules/index.js';
import type { ReviewView } from '../../store/review.js';

/** Slack's limits for messages (https://docs.slack.dev/reference/block-kit/blocks). */
export const SLACK_LIMITS = {
  blocksPerMessage: 50,
  text: 3000,
  headerText: 150,
  buttonText: 75,
  blockId: 255,
  actionId: 255,
  buttonValue: 2000,
  contextElements: 10,
  /** chat.postMessage `text`; kept much shorter here: it is the notification fallback. */
  fallbackText: 3000,
} as const;

export const ACTION_IDS = {
  approve: 'dormant_approve',
  deny: 'dormant_deny',
  snooze: 'dormant_snooze',
} as const;
export type ActionId = (typeof ACTION_IDS)[keyof typeof ACTION_IDS];

/** "Snooze 30 days" = deny, and keep the identity out of plans for this many days. */
export const SNOOZE_DAYS = 30;

/** Items per batched message: header + intro + 3 blocks per item stays under 50 blocks. */
export const PLAN_ITEMS_PER_MESSAGE = 15;

export interface TextObject {
  type: 'mrkdwn' | 'plain_text';
  text: string;
}
export interface PlainText {
  type: 'plain_text';
  text: string;
}
export interface ButtonElement {
  type: 'button';
  text: PlainText;
  action_id: ActionId;
  value: string;
  style?: 'primary' | 'danger';
}
export type SlackBlock =
  | { type: 'header'; block_id?: string; text: PlainText }
  | { type: 'section'; block_id?: string; text: TextObject }
  | { type: 'context'; block_id?: string; elements: TextObject[] }
  | { type: 'divider'; block_id?: string }
  | { type: 'actions'; block_id: string; elements: ButtonElement[] };

/** What a message shows once an item is no longer pending. */
export interface DecisionInfo {
  status: ItemStatus;
  by: string | null;
  at: string | null;
  reason: string | null;
  /** Set when a deny came with a snooze. */
  snoozeUntil?: string | null;
}

// ---- text helpers ------------------------------------------------------------------------

/** Escape the three control characters of Slack mrkdwn. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const TRUNCATED = '… (truncated: `dormant plan --format json` shows everything)';

/**
 * Cut already-escaped text to `max` characters, never inside an entity (`&amp;`) or a link
 * (`<url|text>`), and say that it was cut.
 */
export function truncate(text: string, max: number = SLACK_LIMITS.text, note = TRUNCATED): string {
  if (text.length <= max) return text;
  const suffix = note.length < max ? note : '…';
  let cut = text.slice(0, Math.max(0, max - suffix.length));
  cut = cut.replace(/&[a-z]*$/, '');
  const open = cut.lastIndexOf('<');
  if (open > cut.lastIndexOf('>')) cut = cut.slice(0, open);
  return cut + suffix;
}

/** Plain text (headers, buttons) is shown literally, but & < > are still escaped for Slack. */
function plain(text: string, max: number): PlainText {
  return { type: 'plain_text', text: truncate(escapeMrkdwn(text), max, '…') };
}

function mrkdwn(text: string): TextObject {
  return { type: 'mrkdwn', text: truncate(text, SLACK_LIMITS.text) };
}

/** `2026-11-22T10:00:00.000Z` → `2026-11-22 10:00 UTC`; anything unparsable is shown escaped. */
export function formatTime(iso: string | null): string {
  if (!iso) return 'unknown time';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return escapeMrkdwn(iso);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function formatDate(iso: string | null): string {
  if (!iso) return 'unknown date';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? escapeMrkdwn(iso) : d.toISOString().slice(0, 10);
}

/** A Slack link to an http(s) URL, or the escaped text when it is not one. */
function link(url: string, label: string): string {
  if (!/^https?:\/\/[^\s]+$/i.test(url)) return escapeMrkdwn(url);
  const safe = url.replace(/&/g, '&amp;').replace(/</g, '%3C').replace(/>/g, '%3E').replace(/\|/g, '%7C');
  return `<${safe}|${escapeMrkdwn(label).replace(/\|/g, '/')}>`;
}

/** `slack:jane (U123)` → `<@U123>`; any other actor ("cli:alice", "dormant-service") escaped. */
export function actorMention(by: string | null): string {
  if (!by) return 'someone';
  const m = /^slack:.*\(([UW][A-Z0-9]+)\)$/.exec(by);
  return m ? `<@${m[1]}>` : escapeMrkdwn(by);
}

function blockId(prefix: string, itemId: string): string {
  const id = `${prefix}_${itemId}`;
  if (id.length <= SLACK_LIMITS.blockId) return id;
  return `${prefix}_${createHash('sha256').update(itemId).digest('hex').slice(0, 32)}`;
}

// ---- item content ------------------------------------------------------------------------

const RULE_NAME = new Map(RULES.map((r) => [r.id, r.name]));

function rulesLine(view: ReviewView): string {
  const ids = view.item.ruleIds.length > 0 ? view.item.ruleIds : [...new Set(view.findings.map((f) => f.ruleId))];
  const parts = ids.map((id) => {
    const name = view.findings.find((f) => f.ruleId === id)?.rule ?? RULE_NAME.get(id) ?? 'unknown rule';
    return `\`${escapeMrkdwn(id)}\` ${escapeMrkdwn(name)}`;
  });
  return parts.length > 0 ? parts.join(', ') : 'none recorded';
}

function lastActivityLine(view: ReviewView): string {
  const dated = view.findings
    .filter((f) => f.lastActivityAt !== null)
    .sort((a, b) => (b.lastActivityAt ?? '').localeCompare(a.lastActivityAt ?? ''))[0];
  const at = dated?.lastActivityAt ?? view.identity?.lastActivityAt ?? null;
  const days =
    dated?.daysSinceActivity ??
    view.findings.map((f) => f.daysSinceActivity).find((d): d is number => d !== null && d !== undefined) ??
    null;
  const when = at ? formatTime(at) : 'none recorded';
  return days !== null ? `${when} (${days} days without activity at scan time)` : when;
}

function identityLine(view: ReviewView): string {
  const { item } = view;
  const arn = view.identity?.id ?? item.identityId;
  const credential = item.credentialId ? `, credential \`${escapeMrkdwn(item.credentialId)}\`` : '';
  return `\`${escapeMrkdwn(item.identityName)}\` (${escapeMrkdwn(arn)}) in account ${escapeMrkdwn(item.account)}${credential}`;
}

/** Per-field budgets, so that one long field (an error in the evidence) cannot push out the rest. */
const FIELD = { identity: 400, sentence: 400, owner: 200, evidence: 700, findings: 900 } as const;

function field(text: string, max: number): string {
  return truncate(text, max, '… (truncated)');
}

function itemDetails(view: ReviewView, ticketUrl: string | null, title: string | null): string {
  const { item } = view;
  const lines = [
    ...(title ? [field(title, FIELD.sentence)] : []),
    `*Identity:* ${field(identityLine(view), FIELD.identity)}`,
    `*Rule:* ${rulesLine(view)}`,
    `*Last activity:* ${lastActivityLine(view)}`,
    `*Evidence:* ${field(escapeMrkdwn(evidenceSummary(view.evidence)), FIELD.evidence)}`,
    `*Owner:* ${view.owner ? field(escapeMrkdwn(view.owner), FIELD.owner) : 'unknown (no owner tag)'}`,
    `*Action:* ${field(escapeMrkdwn(item.sentence), FIELD.sentence)}`,
    `*Not before:* ${formatTime(item.notBefore)}`,
    ...(ticketUrl ? [`*Jira:* ${link(ticketUrl, ticketUrl.replace(/^.*\/browse\//, '') || 'ticket')}`] : []),
  ];
  const findings = view.findings.map((f) => `• ${escapeMrkdwn(f.message)}`);
  if (findings.length > 0) lines.push(`*Findings:*\n${field(findings.join('\n'), FIELD.findings)}`);
  return lines.join('\n');
}

function buttons(item: PlanItem): SlackBlock {
  return {
    type: 'actions',
    block_id: blockId('dormant_actions', item.id),
    elements: [
      {
        type: 'button',
        text: plain('Approve', SLACK_LIMITS.buttonText),
        action_id: ACTION_IDS.approve,
        value: item.id,
        style: 'primary',
      },
      {
        type: 'button',
        text: plain('Deny', SLACK_LIMITS.buttonText),
        action_id: ACTION_IDS.deny,
        value: item.id,
        style: 'danger',
      },
      {
        type: 'button',
        text: plain(`Snooze ${SNOOZE_DAYS} days`, SLACK_LIMITS.buttonText),
        action_id: ACTION_IDS.snooze,
        value: item.id,
      },
    ],
  };
}

/** The decision as it is recorded on the item (plus the snooze, which lives in the approvals). */
export function decisionOf(item: PlanItem, snoozeUntil: string | null = null): DecisionInfo {
  return { status: item.status, by: item.decidedBy, at: item.decidedAt, reason: item.reason, snoozeUntil };
}

/** One line: "Approved by <@U123> at 2026-11-22 10:00 UTC", "Snoozed until …", "Failed: reason". */
export function decisionLine(d: DecisionInfo): string {
  const by = actorMention(d.by);
  const at = formatTime(d.at);
  const reason = d.reason ? escapeMrkdwn(d.reason) : null;
  switch (d.status) {
    case 'pending':
      return ':hourglass: Waiting for a decision';
    case 'approved':
      return `:white_check_mark: Approved by ${by} at ${at}`;
    case 'denied':
      if (d.snoozeUntil) return `:zzz: Snoozed until ${formatDate(d.snoozeUntil)} by ${by} at ${at}`;
      return `:no_entry_sign: Denied by ${by} at ${at}${reason ? `: ${reason}` : ''}`;
    case 'done':
      return `:heavy_check_mark: Done${reason ? `: ${reason}` : ''}${d.by ? ` (approved by ${by} at ${at})` : ''}`;
    case 'skipped':
      return `:fast_forward: Skipped: ${reason ?? 'no reason recorded'}${d.by ? ` (approved by ${by} at ${at})` : ''}`;
    case 'failed':
      return `:x: Failed: ${reason ?? 'no reason recorded'}${d.by ? ` (approved by ${by} at ${at})` : ''}`;
  }
}

function decisionContext(item: PlanItem, d: DecisionInfo): SlackBlock {
  return { type: 'context', block_id: blockId('dormant_decision', item.id), elements: [mrkdwn(decisionLine(d))] };
}

function itemHeader(item: PlanItem): SlackBlock {
  return {
    type: 'header',
    text: plain(`dormant review: ${item.action} ${item.identityName}`, SLACK_LIMITS.headerText),
  };
}

function itemFooter(item: PlanItem): SlackBlock {
  return {
    type: 'context',
    elements: [mrkdwn(`Plan \`${escapeMrkdwn(item.planId)}\` · item ${item.seq} · \`${escapeMrkdwn(item.id)}\``)],
  };
}

// ---- messages ----------------------------------------------------------------------------

/** The review request for one item: details and the Approve / Deny / Snooze buttons. */
export function itemBlocks(view: ReviewView, ticketUrl: string | null): SlackBlock[] {
  const { item } = view;
  return [
    itemHeader(item),
    { type: 'section', block_id: blockId('dormant_item', item.id), text: mrkdwn(itemDetails(view, ticketUrl, null)) },
    buttons(item),
    itemFooter(item),
  ];
}

/** The same message once decided (or done): the buttons give way to who decided and when. */
export function decidedBlocks(view: ReviewView, decision: DecisionInfo, ticketUrl: string | null = null): SlackBlock[] {
  const { item } = view;
  return [
    itemHeader(item),
    { type: 'section', block_id: blockId('dormant_item', item.id), text: mrkdwn(itemDetails(view, ticketUrl, null)) },
    decisionContext(item, decision),
    itemFooter(item),
  ];
}

/** The item message for whatever state the item is in now. */
export function itemMessageBlocks(
  view: ReviewView,
  ticketUrl: string | null,
  snoozeUntil: string | null = null,
): SlackBlock[] {
  return view.item.status === 'pending'
    ? itemBlocks(view, ticketUrl)
    : decidedBlocks(view, decisionOf(view.item, snoozeUntil), ticketUrl);
}

export interface PlanBlocksOptions {
  /** Snooze end per item id, for denied items that were snoozed. */
  snoozes?: Map<string, string>;
  /** When a plan is split over several messages. */
  part?: { index: number; total: number };
}

/**
 * One message for several items of a plan: per item a section and its buttons (block_id
 * unique per item), or the decision once made. Items beyond the 50-block limit are not shown
 * and the message says so (SlackReview splits big plans so that this does not happen).
 */
export function planBlocks(
  planId: string,
  views: ReviewView[],
  ticketUrl: string | null,
  options: PlanBlocksOptions = {},
): SlackBlock[] {
  const part = options.part && options.part.total > 1 ? ` (part ${options.part.index} of ${options.part.total})` : '';
  const pending = views.filter((v) => v.item.status === 'pending').length;
  const blocks: SlackBlock[] = [
    { type: 'header', text: plain(`dormant review: plan ${planId}${part}`, SLACK_LIMITS.headerText) },
    {
      type: 'section',
      text: mrkdwn(
        `Plan \`${escapeMrkdwn(planId)}\`: ${views.length} item(s), ${pending} waiting for a decision.` +
          (ticketUrl ? ` Jira: ${link(ticketUrl, ticketUrl.replace(/^.*\/browse\//, '') || 'ticket')}` : ''),
      ),
    },
  ];
  // Keep one block free for the "not shown" note.
  const room = SLACK_LIMITS.blocksPerMessage - blocks.length - 1;
  let shown = 0;
  for (const view of views) {
    if ((shown + 1) * 3 > room) break;
    const { item } = view;
    const title = `*${item.seq}. ${escapeMrkdwn(item.sentence)}*`;
    blocks.push({ type: 'divider' });
    blocks.push({
      type: 'section',
      block_id: blockId('dormant_item', item.id),
      text: mrkdwn(itemDetails(view, null, title)),
    });
    blocks.push(
      item.status === 'pending'
        ? buttons(item)
        : decisionContext(item, decisionOf(item, options.snoozes?.get(item.id) ?? null)),
    );
    shown++;
  }
  if (shown < views.length) {
    blocks.push({
      type: 'context',
      elements: [
        mrkdwn(
          `${views.length - shown} more item(s) not shown: a Slack message holds at most ${SLACK_LIMITS.blocksPerMessage} blocks. ` +
            `Decide them with \`dormant approve ${escapeMrkdwn(planId)} ITEM\` or \`dormant deny\`.`,
        ),
      ],
    });
  }
  return blocks;
}

/** The notification text that goes with the blocks (shown in notifications and by old clients). */
export function fallbackText(views: ReviewView[]): string {
  if (views.length === 1) {
    const { item } = views[0]!;
    const state = item.status === 'pending' ? 'review requested' : item.status;
    return truncate(`dormant ${state}: ${escapeMrkdwn(item.sentence)}`, SLACK_LIMITS.fallbackText, '…');
  }
  const waiting = views.filter((v) => v.item.status === 'pending').length;
  const planId = views[0]?.item.planId ?? '';
  return truncate(
    `dormant review: ${views.length} item(s) of plan ${escapeMrkdwn(planId)}, ${waiting} waiting for a decision`,
    SLACK_LIMITS.fallbackText,
    '…',
  );
}
