/**
 * Evidence for reviewers: the user's latest sign-ins from the Entra sign-in logs
 * (`/auditLogs/signIns`), as one section. Never throws: a log that cannot be read is
 * "unavailable" with the reason, never "no activity".
 */
import { z } from 'zod';
import type { EvidenceItem, EvidenceSection } from '../../model/evidence.js';
import { unavailableSection } from '../../model/evidence.js';
import type { IdentityRef } from '../provider.js';
import type { EntraContext } from './entra-collect.js';
import { graphFailure } from './entra-errors.js';
import { GraphRequestError, parseBody } from './entra-graph.js';

export const SIGN_IN_SOURCE = 'entra-sign-ins';
export const SIGN_IN_TITLE = 'Entra sign-in logs';

const signInSchema = z.object({
  id: z.string(),
  createdDateTime: z.string(),
  appDisplayName: z.string().nullable().optional(),
  ipAddress: z.string().nullable().optional(),
  clientAppUsed: z.string().nullable().optional(),
  isInteractive: z.boolean().nullable().optional(),
  location: z
    .object({
      city: z.string().nullable().optional(),
      state: z.string().nullable().optional(),
      countryOrRegion: z.string().nullable().optional(),
    })
    .nullable()
    .optional(),
  status: z
    .object({ errorCode: z.number().nullable().optional(), failureReason: z.string().nullable().optional() })
    .nullable()
    .optional(),
});

const pageSchema = z.object({ value: z.array(signInSchema) });

type SignInRecord = z.infer<typeof signInSchema>;

function item(s: SignInRecord): EvidenceItem {
  const where = [s.location?.city, s.location?.state, s.location?.countryOrRegion].filter(Boolean).join(', ');
  const ok = (s.status?.errorCode ?? 0) === 0;
  const result = ok
    ? 'success'
    : `failure ${s.status?.errorCode}${s.status?.failureReason ? ` (${s.status.failureReason})` : ''}`;
  const app = s.appDisplayName ?? 'unknown app';
  return {
    at: s.createdDateTime,
    summary: `${s.isInteractive === false ? 'Non-interactive sign-in' : 'Sign-in'} to ${app} from ${s.ipAddress ?? 'unknown IP'}${where ? ` (${where})` : ''}: ${result}`,
    fields: {
      app,
      ip: s.ipAddress ?? null,
      location: where || null,
      result,
      client: s.clientAppUsed ?? null,
      interactive: s.isInteractive === null || s.isInteractive === undefined ? null : String(s.isInteractive),
    },
  };
}

function unavailableReason(err: unknown): string {
  if (err instanceof GraphRequestError && err.status === 403) {
    return err.code === 'Authentication_RequestFromNonPremiumTenantOrB2CTenant'
      ? 'the sign-in logs need an Entra ID P1 or P2 licence in the tenant'
      : 'the app needs the Graph permission AuditLog.Read.All';
  }
  return graphFailure(err).message;
}

export async function entraSignInEvidence(ctx: EntraContext, target: IdentityRef, now: Date): Promise<EvidenceSection> {
  try {
    // Object ids are GUIDs; the quote is escaped the OData way anyway.
    const filter = encodeURIComponent(`userId eq '${target.id.replace(/'/g, "''")}'`);
    const body = await ctx.transport.send(
      'GET',
      `/auditLogs/signIns?$filter=${filter}&$top=${ctx.entra.signInEvidenceDepth}`,
    );
    const signIns = parseBody(pageSchema, body, 'sign-in log page').value;
    signIns.sort((a, b) => Date.parse(b.createdDateTime) - Date.parse(a.createdDateTime));
    const items = signIns.slice(0, ctx.entra.signInEvidenceDepth).map(item);
    const latest = items[0];
    return {
      source: SIGN_IN_SOURCE,
      title: SIGN_IN_TITLE,
      status: 'ok',
      collectedAt: now.toISOString(),
      summary:
        items.length === 0
          ? `${SIGN_IN_TITLE}: no sign-ins recorded (the logs keep 30 days)`
          : `${SIGN_IN_TITLE}: ${items.length} latest sign-in${items.length === 1 ? '' : 's'}, the last on ${latest?.at?.slice(0, 10) ?? 'unknown'}`,
      items,
      scope: 'the last 30 days (Entra keeps sign-in logs 30 days with P1/P2)',
    };
  } catch (err) {
    return unavailableSection(SIGN_IN_SOURCE, SIGN_IN_TITLE, unavailableReason(err), now);
  }
}
