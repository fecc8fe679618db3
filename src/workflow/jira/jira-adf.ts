/**
 * Atlassian Document Format (ADF) for the Jira review tickets: the plan description with the
 * evidence per item, and the outcome comments. Pure builders, no I/O. ADF is JSON, so nothing
 * is escaped; but a text node is never empty, null or undefined (Jira rejects those).
 *
 * Evidence is rendered from the neutral sections, one row each, whatever the provider; a source
 * that could not be read is written "unavailable: reason" — never "no activity".
 */
import type { Evidence, EvidenceItem, EvidenceSection } from '../../model/evidence.js';
import type { PlanItem } from '../../model/plan.js';
import type { ReviewView } from '../../store/review.js';

export type JiraOutcome = 'done' | 'skipped' | 'failed' | 'approved' | 'denied';

export type AdfMark =
  { type: 'strong' } | { type: 'em' } | { type: 'code' } | { type: 'link'; attrs: { href: string } };

export interface AdfText {
  type: 'text';
  text: string;
  marks?: AdfMark[];
}

export interface AdfNode {
  type: string;
  attrs?: Record<string, unknown>;
  content?: (AdfNode | AdfText)[];
}

export interface AdfDoc {
  type: 'doc';
  version: 1;
  content: AdfNode[];
}

/** Jira limits a rich-text field to 32,767 characters; keep the serialized document under this. */
export const DESCRIPTION_BUDGET = 30_000;

// ------------------------------------------------------------------ node helpers

type Inline = AdfText | AdfNode;
type Part = string | Inline | null | undefined | false;

/** A text node, or nothing when the string is empty (a text node must be non-empty). */
export function text(value: string | null | undefined, ...marks: AdfMark[]): AdfText[] {
  if (value === null || value === undefined || value === '') return [];
  return [marks.length > 0 ? { type: 'text', text: value, marks } : { type: 'text', text: value }];
}

export const strong = (value: string | null | undefined) => text(value, { type: 'strong' });
export const code = (value: string | null | undefined) => text(value, { type: 'code' });
export const em = (value: string | null | undefined) => text(value, { type: 'em' });

function inline(parts: Part[]): Inline[] {
  const out: Inline[] = [];
  for (const p of parts) {
    if (p === null || p === undefined || p === false) continue;
    if (typeof p === 'string') out.push(...text(p));
    else if (p.type !== 'text' || (p as AdfText).text) out.push(p);
  }
  return out;
}

/** A paragraph of strings and text nodes; an empty one gets a dash, never an empty text node. */
export function paragraph(...parts: (Part | AdfText[])[]): AdfNode {
  const flat = parts.flatMap((p) => (Array.isArray(p) ? p : [p]));
  const content = inline(flat);
  return { type: 'paragraph', content: content.length > 0 ? content : text('—') };
}

export function heading(level: 1 | 2 | 3 | 4 | 5 | 6, ...parts: (Part | AdfText[])[]): AdfNode {
  const content = inline(parts.flatMap((p) => (Array.isArray(p) ? p : [p])));
  return { type: 'heading', attrs: { level }, content: content.length > 0 ? content : text('—') };
}

/** A bullet list; each entry is a paragraph's parts, or block nodes (paragraph first). */
export function bulletList(entries: AdfNode[][]): AdfNode {
  const items = entries.filter((e) => e.length > 0);
  return {
    type: 'bulletList',
    content: (items.length > 0 ? items : [[paragraph('—')]]).map((blocks) => ({ type: 'listItem', content: blocks })),
  };
}

function tableRow(label: string, blocks: AdfNode[]): AdfNode {
  return {
    type: 'tableRow',
    content: [
      { type: 'tableHeader', content: [paragraph(label)] },
      { type: 'tableCell', content: blocks.length > 0 ? blocks : [paragraph('—')] },
    ],
  };
}

function table(rows: AdfNode[]): AdfNode {
  return { type: 'table', attrs: { isNumberColumnEnabled: false, layout: 'default' }, content: rows };
}

export function doc(content: AdfNode[]): AdfDoc {
  return { type: 'doc', version: 1, content: content.length > 0 ? content : [paragraph('—')] };
}

// ------------------------------------------------------------------ evidence

export interface EvidenceLimits {
  /** Items (events, services, sign-ins) listed per evidence section. */
  items: number;
}

const FULL: EvidenceLimits = { items: 5 };
const COMPACT: EvidenceLimits = { items: 1 };

function itemLine(item: EvidenceItem): AdfNode {
  return paragraph(item.summary || item.at || '—');
}

/**
 * One section's cell: why it is unavailable, its one line when it found nothing, or what it
 * covered (`scope`, in the provider's words) and its newest items as a list.
 */
export function sectionBlocks(section: EvidenceSection, limits: EvidenceLimits = FULL): AdfNode[] {
  if (section.status !== 'ok') return [paragraph(`unavailable: ${section.reason || 'no reason given'}`)];
  if (section.items.length === 0) return [paragraph(`${section.summary} (collected ${section.collectedAt})`)];
  const shown = section.items.slice(0, limits.items);
  const rest = section.items.length - shown.length;
  return [
    paragraph(`${section.scope ?? section.title}:`),
    bulletList(shown.map((item) => [itemLine(item)])),
    ...(rest > 0 ? [paragraph(em(`… and ${rest} more`))] : []),
  ];
}

/** One table row per evidence section, titled as the provider titles it. */
function evidenceRows(evidence: Evidence | null, limits: EvidenceLimits): AdfNode[] {
  if (!evidence || evidence.length === 0) return [tableRow('Evidence', [paragraph(em('evidence not collected'))])];
  return evidence.map((section) => tableRow(section.title || section.source, sectionBlocks(section, limits)));
}

// ------------------------------------------------------------------ plan description

function lastActivity(view: ReviewView): string {
  const at = view.identity?.lastActivityAt ?? view.findings.find((f) => f.lastActivityAt)?.lastActivityAt ?? null;
  const days = view.findings
    .map((f) => f.daysSinceActivity)
    .filter((d): d is number => d !== null)
    .reduce<number | null>((max, d) => (max === null || d > max ? d : max), null);
  if (at && days !== null) return `${at} (${days} days ago)`;
  if (at) return at;
  if (days !== null) return `${days} days without activity`;
  return 'unknown';
}

function identityCell(view: ReviewView): AdfNode[] {
  const arn = view.identity?.id ?? view.item.identityId;
  return [paragraph(strong(view.item.identityName), arn ? ' ' : null, code(arn))];
}

function itemBlocks(view: ReviewView, limits: EvidenceLimits): AdfNode[] {
  const { item } = view;
  const rules = item.ruleIds.length > 0 ? item.ruleIds : ['—'];
  const messages = view.findings.map((f) => f.message).filter((m) => m);
  const rows: AdfNode[] = [
    tableRow('Identity', identityCell(view)),
    tableRow('Account', [paragraph(code(item.account))]),
    tableRow('Rules', [
      paragraph(...rules.flatMap((r, i) => [i > 0 ? ', ' : null, ...code(r)])),
      ...(messages.length > 0 ? [bulletList(messages.map((m) => [paragraph(m)]))] : []),
    ]),
    tableRow('Action', [paragraph(code(item.action), ' ', item.sentence)]),
    tableRow('Last activity', [paragraph(lastActivity(view))]),
    tableRow('Owner', [paragraph(view.owner ?? 'no owner tag')]),
  ];
  if (item.dependsOn) rows.push(tableRow('Not before', [paragraph(`${item.notBefore} (after ${item.dependsOn})`)]));
  rows.push(...evidenceRows(view.evidence, limits));
  return [heading(3, `#${item.seq} `, item.identityName, ' — ', item.action), table(rows)];
}

function summaryLine(planId: string, views: ReviewView[]): AdfNode {
  const identities = new Set(views.map((v) => v.item.identityId)).size;
  const actions = new Map<string, number>();
  for (const v of views) actions.set(v.item.action, (actions.get(v.item.action) ?? 0) + 1);
  const list = [...actions].map(([a, n]) => `${n} × ${a}`).join(', ');
  return paragraph(
    `dormant proposes ${views.length} action(s) on ${identities} inactive IAM identit${identities === 1 ? 'y' : 'ies'}`,
    list ? ` (${list})` : null,
    ' in plan ',
    ...code(planId),
    '. Nothing is changed before a reviewer approves it; decisions and outcomes are added as comments.',
  );
}

/**
 * The ticket description for a plan (or one item of it, with a single view): a heading, a
 * summary and, per item, a table with the identity, rules, action, last activity, owner and
 * evidence. Stays under Jira's field limit by listing less evidence, then fewer items.
 */
export function planDescription(planId: string, views: ReviewView[]): AdfDoc {
  const head = [heading(2, 'dormant review: plan ', ...code(planId)), summaryLine(planId, views)];
  const full = doc([...head, ...views.flatMap((v) => itemBlocks(v, FULL))]);
  if (JSON.stringify(full).length <= DESCRIPTION_BUDGET) return full;
  // Too big: less evidence per item, then only as many items as fit.
  const tail = (rest: number) => paragraph(em(`… and ${rest} more item(s) not shown here (Jira's field size limit)`));
  let used = JSON.stringify(doc([...head, tail(views.length)])).length;
  const shown: AdfNode[] = [];
  let count = 0;
  for (const v of views) {
    const blocks = itemBlocks(v, COMPACT);
    const size = blocks.reduce((n, b) => n + JSON.stringify(b).length + 1, 0);
    if (used + size > DESCRIPTION_BUDGET) break;
    used += size;
    shown.push(...blocks);
    count++;
  }
  return doc([...head, ...shown, ...(count < views.length ? [tail(views.length - count)] : [])]);
}

// ------------------------------------------------------------------ outcome comments

const OUTCOME_TITLE: Record<JiraOutcome, string> = {
  approved: 'Approved',
  denied: 'Denied',
  done: 'Done',
  skipped: 'Skipped',
  failed: 'Failed',
};

const DETAIL_LABEL: Record<JiraOutcome, string> = {
  approved: 'Reason: ',
  denied: 'Reason: ',
  done: 'Detail: ',
  skipped: 'Why: ',
  failed: 'Error: ',
};

/** A comment recording what happened to one item. */
export function outcomeComment(item: PlanItem, outcome: JiraOutcome, detail: string | null | undefined): AdfDoc {
  const blocks: AdfNode[] = [
    paragraph(
      strong(`${OUTCOME_TITLE[outcome]}:`),
      ` item #${item.seq} of plan `,
      ...code(item.planId),
      ': ',
      item.sentence || `${item.action} ${item.identityName}`,
    ),
  ];
  if (detail) blocks.push(paragraph(strong(DETAIL_LABEL[outcome]), detail));
  if ((outcome === 'approved' || outcome === 'denied') && item.decidedBy) {
    blocks.push(paragraph(em(`decided by ${item.decidedBy}${item.decidedAt ? ` at ${item.decidedAt}` : ''}`)));
  }
  if (outcome === 'failed') blocks.push(paragraph(em('the item stays open and is retried on the next apply')));
  return doc(blocks);
}
