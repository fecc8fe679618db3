/**
 * The direct message an owner gets before their access is disabled: which identity, in which
 * account, when, each planned action in the plan's words, and how to object. In each
 * provider's words ("AWS IAM user", "Google Cloud service account").
 */
import type { PlanItem } from '../../model/plan.js';
import type { ReviewView } from '../../store/review.js';
import { escapeMrkdwn, formatTime, truncate } from './slack-blocks.js';
import type { SlackSettings } from './slack-review.js';

const WHAT: Record<string, (item: PlanItem) => string> = {
  aws: () => 'AWS IAM user',
  entra: () => 'Microsoft Entra ID account',
  google: (item) =>
    /gserviceaccount\.com$/i.test(item.identityName) ? 'Google Cloud service account' : 'Google Workspace account',
};

function formatDateOnly(date: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(date) ? date : formatTime(date);
}

export function ownerText(
  settings: Pick<SlackSettings, 'channel' | 'approvers'>,
  owned: ReviewView[],
  disableDate: string,
): string {
  const date = formatDateOnly(disableDate);
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const v of owned) {
    const key = `${v.item.identityId}`;
    const what = `• ${escapeMrkdwn(v.item.sentence)}`;
    if (!seen.has(key)) {
      seen.add(key);
      lines.push(
        `Your ${WHAT[v.item.provider]?.(v.item) ?? 'account'} *${escapeMrkdwn(v.item.identityName)}* in account ${escapeMrkdwn(v.item.account)} will be disabled on *${date}* unless someone responds.`,
      );
    }
    lines.push(what);
  }
  const channel = settings.channel ? `<#${escapeMrkdwn(settings.channel)}>` : 'the review channel';
  const approvers = settings.approvers.map((a) => `<@${escapeMrkdwn(a)}>`).join(', ');
  lines.push(
    `If it is still needed, reply in ${channel}${approvers ? ` or ask ${approvers}` : ''} to deny the request before then. ` +
      'This message was sent by dormant, which retires unused cloud identities.',
  );
  return truncate(lines.join('\n'), 3000, '…');
}
