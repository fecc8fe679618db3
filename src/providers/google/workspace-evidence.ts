/**
 * Evidence for reviewers: a Workspace user's latest login audit events from the Reports API
 * (activities.list, applicationName=login), as one section. Never throws: an audit log that
 * cannot be read is "unavailable" with the reason, never "no activity".
 */
import { z } from 'zod';
import type { EvidenceItem, EvidenceSection } from '../../model/evidence.js';
import { unavailableSection } from '../../model/evidence.js';
import type { IdentityRef } from '../provider.js';
import type { GoogleContext } from './google-context.js';
import { googleFailure, googleMessage, googleStatus } from './google-errors.js';

export const LOGIN_SOURCE = 'google-logins';
export const LOGIN_TITLE = 'Workspace login audit';

const parameterSchema = z.looseObject({
  name: z.string(),
  value: z.string().nullish(),
  boolValue: z.boolean().nullish(),
  multiValue: z.array(z.string()).nullish(),
});

const activitySchema = z.looseObject({
  id: z.looseObject({ time: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an RFC 3339 time') }),
  actor: z.looseObject({ email: z.string().nullish(), profileId: z.string().nullish() }).nullish(),
  ipAddress: z.string().nullish(),
  events: z
    .array(
      z.looseObject({
        type: z.string().nullish(),
        name: z.string().nullish(),
        parameters: z.array(parameterSchema).nullish(),
      }),
    )
    .nullish(),
});

const activitiesSchema = z.looseObject({ items: z.array(activitySchema).nullish() });

type Activity = z.infer<typeof activitySchema>;

function parameter(params: z.infer<typeof parameterSchema>[] | null | undefined, name: string): string | null {
  const p = params?.find((x) => x.name === name);
  if (!p) return null;
  if (p.value !== null && p.value !== undefined) return p.value;
  if (p.multiValue) return p.multiValue.join(', ');
  return p.boolValue === null || p.boolValue === undefined ? null : String(p.boolValue);
}

const WORDS: Record<string, string> = {
  login_success: 'Login',
  login_failure: 'Failed login',
  logout: 'Logout',
  login_challenge: 'Login challenge',
  login_verification: 'Login verification',
  suspicious_login: 'Suspicious login',
};

function items(a: Activity): EvidenceItem[] {
  return (a.events ?? []).map((e) => {
    const name = e.name ?? 'login event';
    const how = parameter(e.parameters, 'login_type');
    const suspicious = parameter(e.parameters, 'is_suspicious') === 'true';
    return {
      at: a.id.time,
      summary: `${WORDS[name] ?? name} from ${a.ipAddress ?? 'unknown IP'}${how ? ` (${how})` : ''}${suspicious ? ', marked suspicious' : ''}`,
      fields: {
        event: name,
        ip: a.ipAddress ?? null,
        loginType: how,
        challenge: parameter(e.parameters, 'login_challenge_method'),
        suspicious: parameter(e.parameters, 'is_suspicious'),
        actor: a.actor?.email ?? null,
      },
    };
  });
}

function unavailableReason(ctx: GoogleContext, err: unknown): string {
  const status = googleStatus(err);
  if (status === 403 || status === 401) {
    return `Google refused the login audit (${status} ${googleMessage(err)}): ${ctx.google.subject ?? 'google.subject'} needs an admin role with the Reports privilege, and domain-wide delegation the scope admin.reports.audit.readonly`;
  }
  return googleFailure(err, {
    what: 'reading the login audit',
    fix: 'try again',
    subject: ctx.google.subject,
    serviceAccount: ctx.who?.serviceAccount ?? null,
    clientId: ctx.who?.clientId ?? null,
  }).message;
}

/** The user's latest login events, newest first, at most google.loginEvidenceDepth of them. */
export async function workspaceLoginEvidence(
  ctx: GoogleContext,
  target: IdentityRef,
  now: Date,
): Promise<EvidenceSection> {
  const depth = ctx.google.loginEvidenceDepth;
  try {
    // The user id is also the Reports API's profile id, so a renamed user is still found.
    const res = await ctx.apis
      .reports()
      .activities.list({ userKey: target.id, applicationName: 'login', maxResults: depth });
    const parsed = activitiesSchema.safeParse(res.data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return unavailableSection(
        LOGIN_SOURCE,
        LOGIN_TITLE,
        `Google returned a login audit page dormant cannot read (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unexpected shape'})`,
        now,
      );
    }
    const list = (parsed.data.items ?? [])
      .flatMap(items)
      .sort((a, b) => Date.parse(b.at ?? '') - Date.parse(a.at ?? ''))
      .slice(0, depth);
    const last = list.find((i) => i.fields?.event === 'login_success');
    return {
      source: LOGIN_SOURCE,
      title: LOGIN_TITLE,
      status: 'ok',
      collectedAt: now.toISOString(),
      summary:
        list.length === 0
          ? `${LOGIN_TITLE}: no login events recorded (Google keeps them about 6 months)`
          : `${LOGIN_TITLE}: ${list.length} latest event${list.length === 1 ? '' : 's'}, ${last ? `the last login on ${last.at?.slice(0, 10)}` : 'no successful login among them'}`,
      items: list,
      scope: 'the Reports API login audit (about the last 6 months)',
    };
  } catch (err) {
    return unavailableSection(LOGIN_SOURCE, LOGIN_TITLE, unavailableReason(ctx, err), now);
  }
}
