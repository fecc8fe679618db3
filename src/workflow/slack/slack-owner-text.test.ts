// The owner's direct message names the identity in its provider's words, not AWS's for everyone.
import { describe, expect, it } from 'vitest';
import type { PlanItem } from '../../model/plan.js';
import type { ReviewView } from '../../store/review.js';
import { ownerText } from './slack-owner-text.js';

const view = (provider: PlanItem['provider'], identityName: string, account: string): ReviewView =>
  ({
    item: { provider, identityName, account, identityId: identityName, sentence: 'Disable it (inactive 120 days)' },
  }) as unknown as ReviewView;

describe('ownerText', () => {
  it.each([
    ['aws', 'alice', '123456789012', 'Your AWS IAM user *alice* in account 123456789012'],
    ['entra', 'bob@contoso.com', 'tenant-1', 'Your Microsoft Entra ID account *bob@contoso.com*'],
    ['google', 'ann@example.com', 'C03az79cb', 'Your Google Workspace account *ann@example.com*'],
    ['google', 'ci@p.iam.gserviceaccount.com', 'p', 'Your Google Cloud service account *ci@p.iam.gserviceaccount.com*'],
  ] as const)('%s %s', (provider, name, account, start) => {
    const text = ownerText({ channel: 'C1', approvers: ['U1'] }, [view(provider, name, account)], '2026-11-25');
    expect(text.startsWith(start)).toBe(true);
    expect(text).toMatch(/will be disabled on \*2026-11-25\*/);
  });
});
