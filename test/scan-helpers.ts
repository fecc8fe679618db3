// Shared helpers for the scan integration tests (test/scan-*.test.ts): run the built CLI
// (test/support/cli.ts) against moto or a proxy in a fresh directory, seed dates relative to
// now, read the JSON document, and a small test-local proxy that can answer with *success*
// bodies (the shared fault proxy only injects errors).
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GenerateCredentialReportCommand, GetCredentialReportCommand } from '@aws-sdk/client-iam';
import { expect } from 'vitest';
import { type CliOptions as RunOptions, runCli as runDormant } from './support/cli.js';
import {
  IAM_NS,
  type LocalServer,
  errorXml,
  forwardRequest,
  listenLocal,
  readBody,
  relay,
  sendXml,
} from './support/http.js';
import { iamClient } from './support/moto.js';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const DAY_MS = 86_400_000;

/** A whole-second instant (moto keeps whole seconds, like AWS). */
export function wholeSecondNow(): number {
  return Math.floor(Date.now() / 1000) * 1000;
}

/** ISO time `days` days (plus `seconds`) before `base`. */
export function agoFrom(base: number, days: number, seconds = 0): string {
  return new Date(base - days * DAY_MS + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function freshDir(prefix = 'dormant-scan-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeConfig(dir: string, yaml: string, name = 'test-config.yml'): string {
  const path = join(dir, name);
  writeFileSync(path, yaml);
  return path;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export type CliOptions = Pick<RunOptions, 'endpoint' | 'cwd' | 'env' | 'timeoutMs'>;

/** Runs `dormant ARGS` (test/support/cli.ts), in a fresh temp directory unless `cwd` is given. */
export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const { code, stdout, stderr } = await runDormant(args, { ...options, cwd: options.cwd ?? freshDir() });
  return { status: code, stdout, stderr };
}

// ------------------------------------------------------------------ the JSON document

export interface JsonCredential {
  kind: 'password' | 'access-key';
  id: string | null;
  slot?: string;
  status: string;
  createdAt: string | null;
  lastUsedAt: string | null;
  lastUse?: string;
}

export interface JsonIdentity {
  provider: string;
  account: string;
  kind: string;
  id: string;
  name: string;
  path: string;
  createdAt: string | null;
  lastActivityAt: string | null;
  state: 'active' | 'inactive' | 'exempt';
  exemptReason: string | null;
  credentials: JsonCredential[];
  tags?: Record<string, string>;
}

export interface JsonFinding {
  id: string;
  ruleId: string;
  rule: string;
  severity: string;
  identityId: string;
  identityName: string;
  credentialId: string | null;
  message: string;
  lastActivityAt: string | null;
  daysSinceActivity: number | null;
  compliance: string[];
  recommendedAction: string;
}

export interface JsonReport {
  schemaVersion: number;
  generatedAt: string;
  source: string;
  accounts: string[];
  settings: { inactiveDays: number };
  identities: JsonIdentity[];
  findings: JsonFinding[];
  warnings?: string[];
  summary: { identities: number; inactive: number; exempt: number; findings: number };
}

/** Asserts a successful run (exit `status`) and parses its JSON document from stdout. */
export function parseReport(run: CliResult, status = 0): JsonReport {
  expect(run.status, `exit code; stderr:\n${run.stderr}`).toBe(status);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  return JSON.parse(run.stdout) as JsonReport;
}

/** `ruleId credentialId` per user, sorted: the exact verdicts of one identity. */
export function findingsOf(report: JsonReport, name: string): string[] {
  return report.findings
    .filter((f) => f.identityName === name)
    .map((f) => (f.credentialId === null ? f.ruleId : `${f.ruleId} ${f.credentialId}`))
    .sort();
}

export function identity(report: JsonReport, name: string): JsonIdentity {
  const found = report.identities.filter((i) => i.name === name);
  expect(found, `identity ${name}`).toHaveLength(1);
  return found[0]!;
}

export function finding(report: JsonReport, name: string, ruleId: string, credentialId?: string | null): JsonFinding {
  const found = report.findings.filter(
    (f) =>
      f.identityName === name && f.ruleId === ruleId && (credentialId === undefined || f.credentialId === credentialId),
  );
  expect(found, `${ruleId} for ${name}`).toHaveLength(1);
  return found[0]!;
}

/** Every (ruleId, identityName, credentialId) triple, sorted, as strings. */
export function verdicts(report: JsonReport): string[] {
  return report.findings.map((f) => `${f.ruleId}|${f.identityName}|${f.credentialId ?? ''}`).sort();
}

export function states(report: JsonReport): Record<string, string> {
  return Object.fromEntries(report.identities.map((i) => [i.name, i.state]));
}

/**
 * An error run: the documented exit code, exactly one line on stderr, no stack trace, and
 * every expected word (case-insensitive) on that line.
 */
export function expectOneLineError(run: CliResult, status: number, ...words: (string | RegExp)[]): string {
  expect(run.status, `exit code; stderr:\n${run.stderr}`).toBe(status);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  const lines = run.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, `stderr should be one line:\n${run.stderr}`).toHaveLength(1);
  const line = lines[0]!;
  for (const w of words) {
    if (typeof w === 'string') expect(line.toLowerCase()).toContain(w.toLowerCase());
    else expect(line).toMatch(w);
  }
  return line;
}

// ------------------------------------------------------------------ AWS SDK helpers

/** GenerateCredentialReport until COMPLETE, then GetCredentialReport: the CSV text. */
export async function fetchReportCsv(endpoint: string): Promise<string> {
  const iam = iamClient(endpoint);
  try {
    for (let i = 0; i < 20; i++) {
      const { State } = await iam.send(new GenerateCredentialReportCommand({}));
      if (State === 'COMPLETE') break;
    }
    const { Content } = await iam.send(new GetCredentialReportCommand({}));
    if (!Content) throw new Error('empty credential report');
    return Buffer.from(Content).toString('utf8');
  } finally {
    iam.destroy();
  }
}

// ------------------------------------------------------------------ test-local proxy

/** A canned reply: an AWS error document, or a success body as given. */
export type ProxyReply = { status: number; code: string; message: string } | { status: number; xml: string };

export interface LocalProxyRequest {
  action: string;
  attempt: number;
}

export interface LocalProxy {
  url: string;
  /** Actions in arrival order. */
  actions: string[];
  stop(): Promise<void>;
}

export function generateReportXml(state: 'STARTED' | 'INPROGRESS' | 'COMPLETE'): string {
  return (
    `<GenerateCredentialReportResponse xmlns="${IAM_NS}"><GenerateCredentialReportResult>` +
    `<State>${state}</State><Description>x</Description></GenerateCredentialReportResult>` +
    `<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GenerateCredentialReportResponse>`
  );
}

/**
 * A minimal proxy in front of moto that can answer a request with a canned success body
 * (the shared fault proxy only returns errors), or with an error document; otherwise it
 * forwards the request unchanged.
 */
export async function startLocalProxy(
  target: string,
  onRequest: (req: LocalProxyRequest) => ProxyReply | undefined,
): Promise<LocalProxy> {
  const targetUrl = new URL(target);
  const attempts = new Map<string, number>();
  const actions: string[] = [];
  const server = http.createServer((req, res) => {
    void readBody(req)
      .then(async (body) => {
        const params = new URLSearchParams(new URL(req.url ?? '/', 'http://proxy').search);
        for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v);
        const action = params.get('Action') ?? '';
        const attempt = (attempts.get(action) ?? 0) + 1;
        attempts.set(action, attempt);
        actions.push(action);
        const reply = onRequest({ action, attempt });
        if (reply !== undefined) {
          const xml = 'xml' in reply ? reply.xml : errorXml(reply.code, reply.message, reply.status, 'local-proxy');
          sendXml(res, reply.status, xml, 'local-proxy');
          return;
        }
        relay(res, await forwardRequest(targetUrl, req.method ?? 'GET', req.url ?? '/', { ...req.headers }, body));
      })
      .catch(() => res.destroy());
  });
  const local: LocalServer = await listenLocal(server);
  return { url: local.url, actions, stop: local.stop };
}
