// `dormant serve` across restarts: with review requests pending, the service is killed
// (SIGKILL) or stopped (SIGTERM, which must end gracefully with exit code 0), then started
// again on the same store. Pending approvals stay pending, the next review cycle posts no
// Slack message and creates no Jira ticket twice, and a click on a message posted before the
// restart still works. The built CLI runs as a child process against moto, the CloudTrail,
// Slack and Jira fakes. AWS points at moto itself, which has no Access Advisor: that evidence
// must be recorded as unavailable, never as "no activity". Run `npm run build` first.
import { describe, expect, it } from 'vitest';
import { evidenceSummary, type Evidence } from '../src/model/evidence.js';
import { iamHasLoginProfile, useMoto } from './support/moto.js';
import {
  APPROVER,
  CHANNEL,
  type ItemRow,
  type Serve,
  type ServeExit,
  type ServeFakes,
  accessKeyStatuses,
  adfText,
  clickSlack,
  itemById,
  items,
  messageOf,
  reviewConfig,
  serveEnv,
  startServe,
  startServeFakes,
  useServeWorlds,
  waitFor,
  waitForReview as waitForItemsReview,
  waitForReviewCycles,
  writeServeConfig,
} from './support/serve.js';

const DAY = 86_400_000;
const STALE = 'stale.alice';
const OWNER = 'alice.owner@example.com';

const ago = (days: number): string => new Date(Date.now() - days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** How the process ended, or null while it runs. */
function exitOf(serve: Serve): ServeExit | null {
  return serve.closed;
}

// ---------------------------------------------------------------- the world

const { moto, iam } = useMoto({ resetEach: true });

interface World extends ServeFakes {
  env: Record<string, string>;
  staleKey: string;
}

const track = useServeWorlds<World>();

async function setUp(): Promise<World> {
  const seeded = await moto.seed({
    users: [
      {
        name: STALE,
        createDate: ago(400),
        password: true,
        passwordLastUsed: ago(200),
        tags: { owner: OWNER },
        keys: [{ createDate: ago(300), lastUsed: ago(200) }],
      },
      { name: 'active.bob', createDate: ago(10), keys: [{ createDate: ago(10), lastUsed: ago(1) }] },
      { name: 'active.carol', createDate: ago(300), password: true, passwordLastUsed: ago(2) },
    ],
  });
  const fakes = await startServeFakes('dormant-serve-restart-');
  writeServeConfig(fakes, {
    remediation: { deleteAfterDays: 30, maxActionsPercent: 100 },
    aws: { maxAttempts: 2 },
    evidence: { cloudtrail: { endpointUrl: fakes.trail.url }, accessAdvisor: { timeoutSeconds: 5 } },
    ...reviewConfig(fakes),
    serve: { schedule: '*/3 * * * * *', applySchedule: '*/2 * * * * *' },
  });
  return track({ ...fakes, staleKey: seeded.users[0]!.keys[0]!, env: serveEnv(fakes, moto.endpoint) });
}

/** Both items of the stale user, once their review was requested in Slack and Jira. */
function waitForReview(w: World, serve: Serve): Promise<{ disable: ItemRow; del: ItemRow }> {
  return waitForItemsReview(w, serve, STALE, { jiraTicket: true });
}

function click(w: World, serve: Serve, itemId: string, ts: string): Promise<Response> {
  return clickSlack(serve, w.signingSecret, { userId: APPROVER, itemId, ts });
}

const accessKeyStatus = (user: string): Promise<string[]> => accessKeyStatuses(iam, user);
const hasLoginProfile = (user: string): Promise<boolean> => iamHasLoginProfile(iam, user);

/** What the review channel and Jira hold: posts, issues, issue creations. */
function counts(w: World): { posts: number; issues: number; creates: number } {
  return {
    posts: w.slack.callsTo('chat.postMessage').filter((c) => c.ok).length,
    issues: w.jira.issues.size,
    creates: w.jira.requestsTo('POST', /^\/rest\/api\/3\/issue$/).length,
  };
}

// ---------------------------------------------------------------- tests

describe('dormant serve, restarted on the same store', () => {
  it.each([['SIGKILL' as const], ['SIGTERM' as const]])(
    'after %s: pending reviews stay pending, nothing is posted twice, and an old message still works',
    async (signal) => {
      const w = await setUp();
      const first = await startServe(w);
      const { disable, del } = await waitForReview(w, first);
      const oldMessage = messageOf(w.dbPath, disable.id)!;
      const before = counts(w);
      expect(before).toEqual({ posts: 2, issues: 1, creates: 1 });
      const issueKey = [...w.jira.issues.keys()][0]!;

      // Access Advisor cannot be had from moto: recorded as unavailable, never as no activity.
      const evidence = JSON.parse(disable.evidence ?? 'null') as Evidence;
      const section = (source: string) => evidence.find((e) => e.source === source);
      expect(section('cloudtrail')?.status).toBe('ok');
      expect(section('access-advisor')?.status).toBe('unavailable');
      const summary = evidenceSummary(evidence);
      expect(summary).toMatch(/Access Advisor unavailable: \S/);
      expect(summary).not.toMatch(/no service accessed/);
      expect(w.slack.shows(CHANNEL, oldMessage.ts)).toContain('Access Advisor unavailable:');

      first.kill(signal);
      const exit = await waitFor(`dormant serve to exit after ${signal}`, () => exitOf(first), {
        serve: first,
        timeoutMs: 20_000,
      });
      if (signal === 'SIGTERM') {
        expect(exit).toEqual({ code: 0, signal: null });
        expect(first.stderr()).toContain('dormant: info: SIGTERM: finishing the current step, then stopping');
        expect(first.stderr()).toContain('dormant: info: stopped');
        expect(first.stderr()).not.toContain('dormant: error:');
      } else {
        expect(exit.signal).toBe('SIGKILL');
      }

      // Nothing was decided while it was down.
      for (const id of [disable.id, del.id]) expect(itemById(w.dbPath, id).status).toBe('pending');

      const second = await startServe(w);
      const ready = await fetch(`${second.url}/readyz`);
      expect(ready.status).toBe(200);
      for (const id of [disable.id, del.id]) expect(itemById(w.dbPath, id).status).toBe('pending');

      // The next review cycle asks nothing twice: no Slack message, no Jira ticket.
      await waitForReviewCycles(second, 1);
      expect(counts(w)).toEqual(before);
      expect(
        items(w.dbPath)
          .filter((i) => i.identity_name === STALE)
          .map((i) => i.id),
      ).toEqual([disable.id, del.id]);
      for (const id of [disable.id, del.id]) expect(itemById(w.dbPath, id).status).toBe('pending');
      expect(w.slack.callsTo('chat.update')).toEqual([]);

      // A click on the message posted before the restart is honoured by the new process.
      const res = await click(w, second, disable.id, oldMessage.ts);
      expect(res.status).toBe(200);
      const done = await waitFor(
        'the item clicked on the old message to be applied',
        () => {
          const row = itemById(w.dbPath, disable.id);
          return row.status === 'done' ? row : null;
        },
        { serve: second, timeoutMs: 20_000 },
      );
      expect(done.decided_by).toBe(`slack:u_approver (${APPROVER})`);
      expect(await accessKeyStatus(STALE)).toEqual([`${w.staleKey}:Inactive`]);
      expect(await hasLoginProfile(STALE)).toBe(false);
      expect(itemById(w.dbPath, del.id).status).toBe('pending');

      // The old message shows the outcome; the old ticket got the comments.
      await waitFor(
        'the old Slack message to show the outcome',
        () => w.slack.shows(CHANNEL, oldMessage.ts).includes(':heavy_check_mark: Done'),
        { serve: second },
      );
      expect(w.slack.message(CHANNEL, oldMessage.ts)!.blocks.some((b) => b.type === 'actions')).toBe(false);
      const comments = await waitFor(
        'the Done comment on the ticket created before the restart',
        () => {
          const texts = w.jira.issue(issueKey).comments.map((c) => adfText(c.body));
          return texts.some((t) => t.startsWith('Done:')) ? texts : null;
        },
        { serve: second },
      );
      expect(comments.map((t) => t.split(':')[0])).toEqual(['Approved', 'Done']);
      expect(second.stderr()).not.toContain('dormant: error:');
    },
  );

  it('killed after the Jira ticket was made but before Slack was asked: the restart reuses the ticket and posts each item once', async () => {
    const w = await setUp();
    // The first review cycle creates the ticket, then Slack fails: the cycle stops there. Slack
    // is still down for the first cycle after the restart, and back for the one after.
    w.slack.failNext('chat.postMessage', 'service_unavailable');
    w.slack.failNext('chat.postMessage', 'service_unavailable');
    const first = await startServe(w);
    await waitFor(
      'the ticket, then the failed Slack post',
      () => w.jira.issues.size === 1 && w.slack.calls.some((c) => c.method === 'chat.postMessage' && !c.ok),
      { serve: first },
    );
    first.kill('SIGKILL');
    await first.exited;
    expect(counts(w)).toEqual({ posts: 0, issues: 1, creates: 1 });
    expect(w.slack.calls.filter((c) => c.method === 'chat.postMessage')).toHaveLength(1);
    const pending = items(w.dbPath).filter((i) => i.identity_name === STALE);
    expect(pending.map((i) => [i.action, i.status])).toEqual([
      ['disable-user', 'pending'],
      ['delete-user', 'pending'],
    ]);

    const second = await startServe(w);
    const { disable, del } = await waitForReview(w, second);
    // The items of the first process's plan, asked about once each, linking the first ticket.
    expect([disable.id, del.id]).toEqual(pending.map((i) => i.id));
    expect(second.stderr()).toMatch(/review cycle failed: Slack chat.postMessage failed: service_unavailable/);
    await waitForReviewCycles(second, 1);
    expect(counts(w)).toEqual({ posts: 2, issues: 1, creates: 1 });
    const issueKey = [...w.jira.issues.keys()][0]!;
    expect(w.slack.shows(CHANNEL, messageOf(w.dbPath, disable.id)!.ts)).toContain(`/browse/${issueKey}|${issueKey}>`);
    expect(items(w.dbPath).filter((i) => i.identity_name === STALE)).toHaveLength(2);
  });
});
