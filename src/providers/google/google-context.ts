/**
 * What every part of the Google provider shares (DESIGN §2d): the validated config, the API
 * clients (Google's own generated ones, built once in google-entry.ts), the call counter, the
 * progress sink and the clock. Workspace code reads `directory`/`reports`; Cloud code reads
 * `iam` and `cloudRequest` (Policy Analyzer and Resource Manager have no per-API package).
 */
import type { admin_directory_v1, admin_reports_v1 } from '@googleapis/admin';
import type { iam_v1 } from '@googleapis/iam';
import type { GoogleConfig } from '../../config/google.js';
import type { ProgressSink } from '../provider.js';
import type { GoogleCallCounter } from './google-http.js';

export type { GoogleConfig };

/** The Cloud REST APIs called through the auth library's client (no generated package). */
export type CloudRestApi = 'policyAnalyzer' | 'resourceManager';

export interface CloudRequest {
  method?: 'GET' | 'POST';
  params?: Record<string, string | number | undefined>;
  data?: unknown;
}

export interface GoogleApis {
  /**
   * The Directory API acting as `google.subject`: `read` with read-only scopes (scan, re-read,
   * backup), `write` with the scopes that suspend, delete, undelete and re-add group members.
   */
  directory(access: 'read' | 'write'): admin_directory_v1.Admin;
  /** The Reports API (login events), acting as `google.subject`. */
  reports(): admin_reports_v1.Admin;
  /** The IAM API, as the service account itself (cloud-platform scope, no subject). */
  iam(): iam_v1.Iam;
  /**
   * A call to Policy Analyzer or Resource Manager: `path` is under the API's root
   * (`/v1/projects/p/locations/global/activityTypes/…/activities:query`, `/v3/projects:search`).
   * Resolves with the parsed JSON body (validate it with a schema); rejects with a GaxiosError.
   */
  cloudRequest(api: CloudRestApi, path: string, request?: CloudRequest): Promise<unknown>;
}

export interface GoogleContext {
  google: GoogleConfig;
  apis: GoogleApis;
  counter: GoogleCallCounter;
  progress?: ProgressSink;
  /** Who the calls run as, for messages (client_email and client id: not secrets); null when unknown (ADC). */
  who?: { serviceAccount: string | null; clientId: string | null };
  /** The clock evidence and backups are stamped with (tests, the demo). */
  clock: () => Date;
}
