// `dormant serve` end to end, as it runs in production: the built CLI as a child process
// (`node dist/cli/main.js serve --port 0`) against moto (IAM), the CloudTrail fake, the
// Access Advisor fake (in front of moto), the Slack Web API fake and the Jira fake, with
// seconds-level schedules. Slack clicks are signed like Slack signs them and posted to the
// running server. Run `npm run build` first.
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { evidenceSummary, type Evidence } from '../src/model/evidence.js';
import { escapeMrkdwn, formatTime } from '../src/workflow/slack/slack-blocks.js';
import { type AccessAdvisorFake, startAccessAdvisorFake } from './support/accessAdvisorFake.js';
import { runCli } from './support/cli.js';
import { forwardRequest, listenLocal, readBody, relay } from './support/http.js';
import { iamHasLoginProfile, useMoto } from './support/moto.js';
import {
  APPROVER,
  CHANNEL,
  type ItemRow,
  type Serve,
  type ServeFakes,
  accessKeyStatuses,
  adfText,
  clickSlack,
  itemById,
  items,
  messageOf,
  query,
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
import { type SlackFake, blockActionsBody, blocksText, signSlackRequest } from './support/slackFake.js';

const DAY = 86_400_000;
const STALE = 'stale.alice';
const OWNER = 'alice.owner@example.com';
const REVIEW_EVERY = '*/3 * * * * *';
const APPLY_EVERY = '*/2 * * * * *';

const ago = (days: number): string => new Date(Date.now() - days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface HistoryJson {
  plans: {
    id: string;
    items: { id: string; identityName: string; action: string; status: string; ruleIds: string[] }[];
  }[];
}

async function historyJson(dbPath: string): Promise<HistoryJson> {
  const run = await runCli(['history', '--format', 'json', '--db', `sqlite:${dbPath}`], { timeoutMs: 30_000 });
  if (run.code !== 0) throw new Error(`dormant history failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as HistoryJson;
}

// ---------------------------------------------------------------- AWS routing

/**
 * The Access Advisor fake checks that every request is signed for IAM, so STS (the caller
 * check) cannot go through it: this small router sends requests signed for `iam` to the fake
 * (which answers Access Advisor and forwards the rest to moto) and everything else to moto.
 * The Host header is kept, so the fake's SigV4 check sees what the SDK signed.
 */
async function startRouter(iamUrl: string, otherUrl: string): Promise<{ url: string; stop(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    void readBody(req).then(
      async (body) => {
        const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([a-z0-9-]+)\/aws4_request/.exec(
          req.headers.authorization ?? '',
        );
        const target = new URL(scope?.[1] === 'iam' ? iamUrl : otherUrl);
        try {
          const up = await forwardRequest(target, req.method ?? 'GET', req.url ?? '/', { ...req.headers }, body, {
            keepHost: true,
          });
          relay(res, up);
        } catch {
          res.writeHead(502);
          res.end();
        }
      },
      () => res.destroy(),
    );
  });
  return listenLocal(server);
}

// ---------------------------------------------------------------- the world

const { moto, iam } = useMoto({ resetEach: true });

interface World extends ServeFakes {
  advisor: AccessAdvisorFake;
  router: { url: string; stop(): Promise<void> };
  env: Record<string, string>;
  staleKey: string;
}

const track = useServeWorlds<World>((w) => [w.advisor, w.router]);

async function setUp(options: { notifyOwners?: boolean; slackUsers?: Record<string, string> } = {}): Promise<World> {
  const seeded = await moto.seed({
    users: [
      {
        name: STALE,
        createDate: ago(400),
        password: true,
        passwordLastUsed: ago(200),
        tags: { owner: OWNER, team: 'payments' },
        keys: [{ createDate: ago(300), lastUsed: ago(200), service: 's3' }],
      },
      { name: 'active.bob', createDate: ago(10), keys: [{ createDate: ago(10), lastUsed: ago(1) }] },
      { name: 'active.carol', createDate: ago(300), password: true, passwordLastUsed: ago(2) },
      { name: 'active.dave', createDate: ago(5) },
    ],
  });
  const staleKey = seeded.users[0]!.keys[0]!;
  const fakes = await startServeFakes('dormant-serve-', { users: options.slackUsers ?? {} });
  const advisor = await startAccessAdvisorFake(moto.endpoint, {
    pollsBeforeReady: 0,
    services: {
      [STALE]: [
        { namespace: 's3', name: 'Amazon S3', lastAccessedAt: ago(200), region: 'us-east-1' },
        { namespace: 'ec2', name: 'Amazon EC2', lastAccessedAt: null },
      ],
    },
  });
  const router = await startRouter(advisor.url, moto.endpoint);
  writeServeConfig(fakes, {
    inactiveDays: 90,
    remediation: { deleteAfterDays: 30, maxActionsPercent: 100 },
    aws: { maxAttempts: 2 },
    evidence: {
      cloudtrail: { endpointUrl: fakes.trail.url },
      accessAdvisor: { timeoutSeconds: 10 },
    },
    ...reviewConfig(fakes, { notifyOwners: options.notifyOwners ?? false }),
    serve: { schedule: REVIEW_EVERY, applySchedule: APPLY_EVERY },
  });
  return track({ ...fakes, advisor, router, staleKey, env: serveEnv(fakes, router.url) });
}

/** Both items of the stale user, once their review was requested in Slack (and Jira). */
function waitForReview(w: World, serve: Serve): Promise<{ disable: ItemRow; del: ItemRow }> {
  return waitForItemsReview(w, serve, STALE);
}

/** POST a signed block_actions click to the running server. */
function click(
  w: World,
  serve: Serve,
  o: { userId: string; itemId: string; ts: string; actionId?: string },
): Promise<Response> {
  return clickSlack(serve, w.signingSecret, o);
}

const accessKeyStatus = (user: string): Promise<string[]> => accessKeyStatuses(iam, user);
const hasLoginProfile = (user: string): Promise<boolean> => iamHasLoginProfile(iam, user);

function postMessages(slack: SlackFake, channel = CHANNEL): number {
  return slack.callsTo('chat.postMessage').filter((c) => c.ok && c.body.channel === channel).length;
}

function approvalCount(dbPath: string): number {
  return query<{ n: number }>(dbPath, 'SELECT COUNT(*) AS n FROM approvals')[0]!.n;
}

/** The stale user as seeded: its key Active, its console password in place. */
async function expectUntouched(w: World): Promise<void> {
  expect(await accessKeyStatus(STALE)).toEqual([`${w.staleKey}:Active`]);
  expect(await hasLoginProfile(STALE)).toBe(true);
}

/** Nothing was decided: the item is pending, no approval, no message update, no Jira comment. */
function expectNothingDecided(w: World, itemId: string): void {
  const row = itemById(w.dbPath, itemId);
  expect(row.status).toBe('pending');
  expect(row.decided_by).toBeNull();
  expect(approvalCount(w.dbPath)).toBe(0);
  expect(w.slack.callsTo('chat.update')).toEqual([]);
  for (const issue of w.jira.issues.values()) {
    expect(issue.comments).toEqual([]);
    expect(issue.transitions).toEqual([]);
  }
}

/** Errors the service logged (a failed cycle, a failed click). */
function loggedErrors(serve: Serve): string[] {
  return serve
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('dormant: error:'));
}

// ---------------------------------------------------------------- tests

describe('dormant serve, end to end', () => {
  it('reviews in Slack and Jira, takes an approver click, applies it, and reports it in Jira and Slack', async () => {
    const w = await setUp();
    const serve = await startServe(w);
    const { disable, del } = await waitForReview(w, serve);
    // A plan exists, as `dormant history --format json` shows it (read while the checks below run).
    const history = historyJson(w.dbPath);

    // The evidence was collected and stored: CloudTrail (no events), Access Advisor (s3 200 days ago).
    const evidence = JSON.parse(disable.evidence ?? 'null') as Evidence;
    const section = (source: string) => evidence.find((e) => e.source === source);
    expect(section('cloudtrail')?.status).toBe('ok');
    expect(section('access-advisor')?.status).toBe('ok');
    const summary = evidenceSummary(evidence);
    expect(summary).toContain('no CloudTrail events in us-east-1');
    expect(summary).toContain('last service s3 at');
    expect(w.trail.requests.some((r) => JSON.stringify(r.body).includes(STALE))).toBe(true);
    expect(w.advisor.advisorRequests().length).toBeGreaterThanOrEqual(2);

    // Exactly one Jira ticket for the plan, with the evidence in its ADF description.
    await waitFor('the Jira ticket', () => w.jira.issues.size === 1, { serve });
    const issue = [...w.jira.issues.values()][0]!;
    expect(issue.project).toBe('SEC');
    expect(issue.labels).toContain('dormant');
    expect(issue.description?.type).toBe('doc');
    const description = adfText(issue.description);
    expect(description).toContain(disable.plan_id);
    expect(description).toContain(STALE);
    expect(description).toContain(OWNER);
    expect(description).toContain('DORMANT-AWS-001');
    expect(description).toMatch(/no CloudTrail events in us-east-1/);
    expect(description).toMatch(/last services used:.*s3 \(Amazon S3\) at /);
    const ticketUrl = `${w.jira.url}/browse/${issue.key}`;

    // One Slack message per item, in the review channel, showing everything a reviewer needs.
    const disableMsg = messageOf(w.dbPath, disable.id)!;
    expect(disableMsg.channel).toBe(CHANNEL);
    expect(postMessages(w.slack)).toBe(2);
    const posted = w.slack
      .callsTo('chat.postMessage')
      .find((c) => c.ok && c.body.channel === CHANNEL && JSON.stringify(c.body.blocks).includes(disable.id))!;
    expect(posted).toBeDefined();
    const shown = blocksText(posted.body.blocks as Record<string, unknown>[]);
    expect(shown).toContain(STALE);
    expect(shown).toMatch(/\*Rule:\* `DORMANT-AWS-001` inactive-user/);
    expect(shown).toMatch(/\*Last activity:\* \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC \((199|200) days without activity/);
    expect(shown).toContain(`*Evidence:* ${escapeMrkdwn(summary)}`);
    expect(shown).toContain(`*Owner:* ${OWNER}`);
    expect(shown).toContain(
      '*Action:* Disable user stale.alice: deactivate its access keys and remove its console password',
    );
    expect(shown).toContain(`*Jira:* <${ticketUrl}|${issue.key}>`);
    const actions = (posted.body.blocks as { type: string; elements?: { action_id: string; value: string }[] }[]).find(
      (b) => b.type === 'actions',
    )!;
    expect(actions.elements!.map((e) => [e.action_id, e.value])).toEqual([
      ['dormant_approve', disable.id],
      ['dormant_deny', disable.id],
      ['dormant_snooze', disable.id],
    ]);
    expect(shown).toContain('Approve\nDeny\nSnooze 30 days');

    // The approver clicks Approve on the disable item: Slack gets its 200 at once.
    const res = await click(w, serve, { userId: APPROVER, itemId: disable.id, ts: disableMsg.ts });
    expect(res.status).toBe(200);

    // The apply cycle disables the user: its key is Inactive and its console password is gone.
    const done = await waitFor(
      'the apply cycle to finish the item',
      () => {
        const row = itemById(w.dbPath, disable.id);
        return row.status === 'done' ? row : null;
      },
      { serve, timeoutMs: 20_000 },
    );
    expect(done.decided_by).toBe(`slack:u_approver (${APPROVER})`);
    expect(await accessKeyStatus(STALE)).toEqual([`${w.staleKey}:Inactive`]);
    expect(await hasLoginProfile(STALE)).toBe(false);
    expect(itemById(w.dbPath, del.id).status).toBe('pending');
    // Only that user was touched.
    expect(await hasLoginProfile('active.carol')).toBe(true);
    expect(await accessKeyStatus('active.bob')).toEqual([expect.stringMatching(/:Active$/)]);

    // Jira: the approval and the outcome were commented on the ticket, which moved to In Review.
    const comments = await waitFor(
      'the Jira comment about the applied item',
      () => {
        const texts = w.jira.issue(issue.key).comments.map((c) => adfText(c.body));
        return texts.some((t) => t.startsWith(`Done: item #${disable.seq} of plan ${disable.plan_id}`)) ? texts : null;
      },
      { serve },
    );
    expect(comments.filter((t) => t.startsWith('Approved:'))).toHaveLength(1);
    expect(comments.find((t) => t.startsWith('Approved:'))).toContain(`decided by slack:u_approver (${APPROVER})`);
    expect(comments.filter((t) => t.startsWith('Done:'))).toHaveLength(1);
    expect(w.jira.issue(issue.key).transitions).toEqual(['In Review']);

    // Slack: the message was updated in place with the decision, who and when; no buttons left.
    const text = await waitFor(
      'the Slack message to show the outcome',
      () => {
        const t = w.slack.shows(CHANNEL, disableMsg.ts);
        return t.includes(':heavy_check_mark: Done') ? t : null;
      },
      { serve },
    );
    expect(w.slack.callsTo('chat.update').filter((c) => c.ok && c.body.ts === disableMsg.ts).length).toBeGreaterThan(0);
    expect(text).toContain(`approved by slack:u_approver (${APPROVER}) at ${formatTime(done.decided_at)}`);
    expect(w.slack.message(CHANNEL, disableMsg.ts)!.blocks.some((b) => b.type === 'actions')).toBe(false);
    // The delete item's message still waits for a decision, with its buttons.
    const delMsg = messageOf(w.dbPath, del.id)!;
    expect(w.slack.message(CHANNEL, delMsg.ts)!.blocks.some((b) => b.type === 'actions')).toBe(true);

    const hist = await history;
    const plan = hist.plans.find((p) => p.id === disable.plan_id);
    expect(plan?.items.map((i) => [i.id, i.identityName, i.action])).toEqual([
      [disable.id, STALE, 'disable-user'],
      [del.id, STALE, 'delete-user'],
    ]);
    expect(plan!.items[0]!.ruleIds).toContain('DORMANT-AWS-001');
    expect(hist.plans.flatMap((p) => p.items).filter((i) => i.identityName !== STALE)).toEqual([]);
    expect(loggedErrors(serve)).toEqual([]);
  });

  it('refuses a click from someone who is not an approver, ephemerally, and changes nothing', async () => {
    const w = await setUp();
    const serve = await startServe(w);
    const { disable } = await waitForReview(w, serve);
    const msg = messageOf(w.dbPath, disable.id)!;

    const res = await click(w, serve, { userId: 'U0INTRUDER', itemId: disable.id, ts: msg.ts });
    expect(res.status).toBe(200);
    const refusal = await waitFor(
      'the ephemeral refusal',
      () => w.slack.ephemerals.find((e) => e.user === 'U0INTRUDER'),
      { serve },
    );
    expect(refusal.channel).toBe(CHANNEL);
    expect(refusal.text).toMatch(/Only the configured approvers can decide/);
    expect(refusal.text).toContain(APPROVER);
    expect(refusal.text).toContain('Nothing was changed');

    // Two more review cycles: an apply cycle ran in between, and nothing changed.
    await waitForReviewCycles(serve, 2);
    expectNothingDecided(w, disable.id);
    await expectUntouched(w);
    expect(w.slack.ephemerals).toHaveLength(1);
    expect(postMessages(w.slack)).toBe(2);
    expect(loggedErrors(serve)).toEqual([]);
  });

  it('rejects unsigned, wrongly signed, stale and tampered Slack requests with 401, and changes nothing', async () => {
    const w = await setUp();
    const serve = await startServe(w);
    const { disable, del } = await waitForReview(w, serve);
    const msg = messageOf(w.dbPath, disable.id)!;
    const body = blockActionsBody({
      userId: APPROVER,
      actionId: 'dormant_approve',
      itemId: disable.id,
      channel: CHANNEL,
      ts: msg.ts,
    });
    const post = (headers: Record<string, string>, sent = body) =>
      fetch(`${serve.url}/slack/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: sent,
      });
    const now = Math.floor(Date.now() / 1000);
    const good = signSlackRequest(w.signingSecret, body, now);

    const cases: [string, Promise<Response>][] = [
      ['signed with the wrong secret', post(signSlackRequest(`${w.signingSecret}x`, body, now))],
      ['signed 6 minutes ago', post(signSlackRequest(w.signingSecret, body, now - 6 * 60))],
      ['body changed after signing', post(good, body.replace(disable.id, del.id))],
      ['no x-slack-signature header', post({ 'x-slack-request-timestamp': good['x-slack-request-timestamp'] })],
      ['no x-slack-request-timestamp header', post({ 'x-slack-signature': good['x-slack-signature'] })],
      ['no signature headers at all', post({})],
    ];
    for (const [what, response] of cases) {
      const r = await response;
      expect(r.status, what).toBe(401);
      expect(await r.text(), what).toBe('invalid Slack request signature');
    }

    await waitForReviewCycles(serve, 2);
    expectNothingDecided(w, disable.id);
    expect(itemById(w.dbPath, del.id).status).toBe('pending');
    await expectUntouched(w);
    expect(w.slack.ephemerals).toEqual([]);
    // Each refusal was logged as a warning, without the secret.
    const refused = serve
      .stderr()
      .split('\n')
      .filter((l) => l.includes('refused a Slack request'));
    expect(refused).toHaveLength(cases.length);
    expect(serve.stderr()).not.toContain(w.signingSecret);
  });

  it('answers /healthz and, once ready, /readyz', async () => {
    const w = await setUp();
    const serve = await startServe(w);
    const health = await fetch(`${serve.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    await waitForReviewCycles(serve, 1);
    const ready = await fetch(`${serve.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', lastCycleError: null });
  });

  it('sends the owner exactly one DM, however many cycles run', async () => {
    const w = await setUp({ notifyOwners: true, slackUsers: { [OWNER]: 'U0ALICE' } });
    const serve = await startServe(w);
    const { disable, del } = await waitForReview(w, serve);
    await waitForReviewCycles(serve, 3);

    const dms = w.slack.callsTo('chat.postMessage').filter((c) => c.ok && c.body.channel !== CHANNEL);
    expect(dms).toHaveLength(1);
    expect(dms[0]!.body.channel).toBe('D0ALICE');
    const dm = String(dms[0]!.body.text);
    expect(dm).toContain(`*${STALE}*`);
    expect(dm).toMatch(/will be disabled on \*\d{4}-\d{2}-\d{2}\*/);
    expect(dm).toContain(`<#${CHANNEL}>`);
    expect(w.slack.callsTo('users.lookupByEmail').map((c) => c.body.email)).toEqual([OWNER]);
    expect(w.slack.callsTo('conversations.open')).toHaveLength(1);
    const notified = query<{ item_id: string; status: string; slack_user: string }>(
      w.dbPath,
      'SELECT item_id, status, slack_user FROM owner_notifications ORDER BY item_id',
    );
    expect(notified).toEqual([
      { item_id: disable.id, status: 'sent', slack_user: 'U0ALICE' },
      { item_id: del.id, status: 'sent', slack_user: 'U0ALICE' },
    ]);
    // The review channel still has one message per item.
    expect(postMessages(w.slack)).toBe(2);
  });

  it('does not ask again to disable a user it has just disabled (no new Slack message, Jira ticket or owner DM)', async () => {
    const w = await setUp({ notifyOwners: true, slackUsers: { [OWNER]: 'U0ALICE' } });
    const serve = await startServe(w);
    const { disable, del } = await waitForReview(w, serve);
    await waitFor('the Jira ticket', () => w.jira.issues.size === 1, { serve });
    const msg = messageOf(w.dbPath, disable.id)!;
    expect((await click(w, serve, { userId: APPROVER, itemId: disable.id, ts: msg.ts })).status).toBe(200);
    await waitFor('the item to be done', () => itemById(w.dbPath, disable.id).status === 'done', { serve });
    expect(await accessKeyStatus(STALE)).toEqual([`${w.staleKey}:Inactive`]);
    expect(await hasLoginProfile(STALE)).toBe(false);

    // Later cycles still see the user as inactive (disabling is no activity), but it is disabled
    // already and its deletion is planned (item 2, still pending): there is nothing new to ask.
    await waitForReviewCycles(serve, 2);
    const asked = {
      itemsOfTheUser: items(w.dbPath)
        .filter((i) => i.identity_name === STALE)
        .map((i) => `${i.action} ${i.status}`),
      reviewMessages: postMessages(w.slack),
      jiraTickets: w.jira.issues.size,
      ownerDMs: w.slack.callsTo('chat.postMessage').filter((c) => c.ok && c.body.channel !== CHANNEL).length,
    };
    expect(asked).toEqual({
      itemsOfTheUser: ['disable-user done', 'delete-user pending'],
      reviewMessages: 2,
      jiraTickets: 1,
      ownerDMs: 1,
    });
    expect(itemById(w.dbPath, del.id).status).toBe('pending');
  });
});
