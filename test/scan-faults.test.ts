// `dormant scan` when AWS refuses or fails (DESIGN §2, §3, §6): AccessDenied on the
// credential report (auto falls back to the API with a warning; report exits 3), an
// unreachable endpoint, throttling that clears and throttling that does not, a persistent
// 5xx, and a credential report that is still being generated or never completes.
import { beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy, type FaultProxyOptions } from './support/faultProxy.js';
import { closedPort } from './support/http.js';
import { useMoto } from './support/moto.js';
import { expectedFindings, keysByName, scanCases } from './scan-cases.js';
import {
  expectOneLineError,
  fetchReportCsv,
  freshDir,
  generateReportXml,
  parseReport,
  runCli,
  startLocalProxy,
  verdicts,
  wholeSecondNow,
  writeConfig,
  type JsonReport,
  type LocalProxy,
} from './scan-helpers.js';

/** A few users covering every user-level and key-level verdict. */
const NAMES = ['fresh-key-old-user', 'never-used-key', 'no-credentials', 'inactive-100', 'password-120', 'tag-exempt'];

const { moto } = useMoto();
let expected: string[];
let expectedStates: Record<string, string>;
/** A config that keeps retries short. */
let fastConfig: string;

beforeAll(async () => {
  const cases = scanCases(wholeSecondNow()).filter((c) => NAMES.includes(c.user.name));
  const keys = keysByName(await moto.seed({ users: cases.map((c) => c.user) }));
  expected = cases
    .flatMap((c) =>
      expectedFindings(c.findings, keys.get(c.user.name) ?? []).map((f) => {
        const [ruleId, credentialId] = f.split(' ');
        return `${ruleId}|${c.user.name}|${credentialId ?? ''}`;
      }),
    )
    .sort();
  expectedStates = Object.fromEntries(cases.map((c) => [c.user.name, c.state]));
  fastConfig = writeConfig(freshDir(), 'aws: { maxAttempts: 3 }\n');
  // Make sure moto holds a report, so a forwarded GenerateCredentialReport says COMPLETE.
  await fetchReportCsv(moto.endpoint);
});

function expectCorrect(r: JsonReport): void {
  expect(verdicts(r)).toEqual(expected);
  expect(Object.fromEntries(r.identities.map((i) => [i.name, i.state]))).toEqual(expectedStates);
}

/** Each test owns its proxy (the tests of a group run concurrently). */
async function withFaultProxy<T>(options: FaultProxyOptions, fn: (proxy: FaultProxy) => Promise<T>): Promise<T> {
  const proxy = await startFaultProxy(moto.endpoint, options);
  try {
    return await fn(proxy);
  } finally {
    await proxy.stop();
  }
}

async function withLocalProxy<T>(
  onRequest: Parameters<typeof startLocalProxy>[1],
  fn: (proxy: LocalProxy) => Promise<T>,
): Promise<T> {
  const proxy = await startLocalProxy(moto.endpoint, onRequest);
  try {
    return await fn(proxy);
  } finally {
    await proxy.stop();
  }
}

function count(proxy: { requests: { action: string }[] }, action: string): number {
  return proxy.requests.filter((r) => r.action === action).length;
}

describe.concurrent('AccessDenied on the credential report', () => {
  const denyReport: FaultProxyOptions['onRequest'] = ({ action }) =>
    action === 'GetCredentialReport' || action === 'GenerateCredentialReport'
      ? { status: 403, code: 'AccessDenied', message: `User is not authorized to perform: iam:${action}` }
      : undefined;

  it('--source auto falls back to the API with a warning, and gets the same verdicts', async () => {
    await withFaultProxy({ onRequest: denyReport }, async (proxy) => {
      const run = await runCli(['scan', '--key-ids', '--format', 'json'], { endpoint: proxy.url });
      const r = parseReport(run);
      expect(r.source).toBe('api');
      expectCorrect(r);
      const warnings = run.stderr.split('\n').filter((l) => l.trim() !== '');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^dormant: warning: .*iam:GetCredentialReport.*switched to the API source/);
      expect(warnings[0]).toMatch(/denied/i);
      expect(r.warnings?.some((w) => w.includes('switched to the API source'))).toBe(true);
      expect(count(proxy, 'ListUsers')).toBeGreaterThanOrEqual(1);
    });
  });

  it('--source report exits 3 naming iam:GetCredentialReport', async () => {
    await withFaultProxy({ onRequest: denyReport }, async (proxy) => {
      const run = await runCli(['scan', '--key-ids', '--format', 'json', '--source', 'report'], {
        endpoint: proxy.url,
      });
      expectOneLineError(run, 3, 'iam:GetCredentialReport', 'denied', 'AccessDenied', 'dormant permissions');
      expect(run.stdout).toBe('');
      expect(count(proxy, 'ListUsers')).toBe(0);
    });
  });
});

describe.concurrent('network and service failures', () => {
  it('an unreachable endpoint exits 3: cannot reach', async () => {
    const port = await closedPort();
    const run = await runCli(['--config', fastConfig, 'scan', '--format', 'json'], {
      endpoint: `http://127.0.0.1:${port}`,
    });
    expectOneLineError(run, 3, 'cannot reach', `127.0.0.1:${port}`, 'ECONNREFUSED');
    expect(run.stdout).toBe('');
  });

  it('throttling of ListUsers that clears: exit 0 with correct results', async () => {
    await withFaultProxy(
      {
        onRequest: ({ action, attempt }) =>
          action === 'ListUsers' && attempt <= 2
            ? { status: 400, code: 'Throttling', message: 'Rate exceeded' }
            : undefined,
      },
      async (proxy) => {
        const r = parseReport(
          await runCli(['scan', '--key-ids', '--format', 'json', '--source', 'api'], { endpoint: proxy.url }),
        );
        expect(r.source).toBe('api');
        expectCorrect(r);
        expect(count(proxy, 'ListUsers')).toBe(3);
      },
    );
  });

  it('throttling of GetCredentialReport that clears: exit 0 with correct results', async () => {
    await withFaultProxy(
      {
        onRequest: ({ action, attempt }) =>
          action === 'GetCredentialReport' && attempt <= 2
            ? { status: 400, code: 'Throttling', message: 'Rate exceeded' }
            : undefined,
      },
      async (proxy) => {
        const r = parseReport(await runCli(['scan', '--key-ids', '--format', 'json'], { endpoint: proxy.url }));
        expect(r.source).toBe('credential-report');
        expectCorrect(r);
        expect(count(proxy, 'GetCredentialReport')).toBeGreaterThanOrEqual(3);
        expect(count(proxy, 'ListUsers')).toBe(0);
      },
    );
  });

  it('throttling that never clears (API source) exits 3 after aws.maxAttempts', async () => {
    await withFaultProxy(
      {
        onRequest: ({ action }) =>
          action === 'ListUsers' ? { status: 400, code: 'Throttling', message: 'Rate exceeded' } : undefined,
      },
      async (proxy) => {
        const run = await runCli(['--config', fastConfig, 'scan', '--format', 'json', '--source', 'api'], {
          endpoint: proxy.url,
        });
        expectOneLineError(run, 3, 'throttl', 'iam:ListUsers', '3 attempts');
        expect(run.stdout).toBe('');
        expect(count(proxy, 'ListUsers')).toBe(3);
      },
    );
  });

  it('throttling that never clears (report source) exits 3', async () => {
    await withFaultProxy(
      {
        onRequest: ({ action }) =>
          action === 'GetCredentialReport' ? { status: 400, code: 'Throttling', message: 'Rate exceeded' } : undefined,
      },
      async (proxy) => {
        const run = await runCli(['--config', fastConfig, 'scan', '--format', 'json', '--source', 'report'], {
          endpoint: proxy.url,
        });
        expectOneLineError(run, 3, 'throttl', 'iam:GetCredentialReport');
        expect(count(proxy, 'GetCredentialReport')).toBe(3);
      },
    );
  });

  it('a 5xx that persists exits 3', async () => {
    await withFaultProxy(
      {
        onRequest: ({ action }) =>
          action === 'ListUsers' ? { status: 503, code: 'ServiceUnavailable', message: 'try again' } : undefined,
      },
      async (proxy) => {
        const run = await runCli(['--config', fastConfig, 'scan', '--format', 'json', '--source', 'api'], {
          endpoint: proxy.url,
        });
        expectOneLineError(run, 3, 'iam:ListUsers', 'HTTP 503', 'retry later');
        expect(run.stdout).toBe('');
        expect(count(proxy, 'ListUsers')).toBe(3);
      },
    );
  });

  it('a 5xx that clears: exit 0 with correct results', async () => {
    await withFaultProxy(
      {
        onRequest: ({ action, attempt }) =>
          action === 'GetAccessKeyLastUsed' && attempt === 1
            ? { status: 500, code: 'InternalFailure', message: 'oops' }
            : undefined,
      },
      async (proxy) => {
        const r = parseReport(
          await runCli(['scan', '--key-ids', '--format', 'json', '--source', 'api'], { endpoint: proxy.url }),
        );
        expectCorrect(r);
      },
    );
  });
});

describe.concurrent('a credential report that is still being generated', () => {
  it('is waited for (STARTED twice, ReportNotPresent, ReportInProgress), then read', async () => {
    await withLocalProxy(
      ({ action, attempt }) => {
        if (action === 'GenerateCredentialReport' && attempt <= 2)
          return { status: 200, xml: generateReportXml('STARTED') };
        if (action === 'GetCredentialReport' && attempt === 1)
          return { status: 410, code: 'ReportNotPresent', message: 'Credential report not present' };
        if (action === 'GetCredentialReport' && attempt === 2)
          return { status: 404, code: 'ReportInProgress', message: 'Credential report is being generated' };
        return undefined;
      },
      async (proxy) => {
        const r = parseReport(
          await runCli(['scan', '--key-ids', '--format', 'json', '--source', 'report'], { endpoint: proxy.url }),
        );
        expect(r.source).toBe('credential-report');
        expectCorrect(r);
        const reportCalls = proxy.actions.filter((a) => a.includes('CredentialReport'));
        // Generation is requested first (a no-op while AWS's copy is fresh), polled while
        // STARTED, and requested again when the report turns out missing; the report itself
        // is downloaded only once it is there.
        expect(reportCalls).toEqual([
          'GenerateCredentialReport',
          'GenerateCredentialReport',
          'GenerateCredentialReport',
          'GetCredentialReport',
          'GenerateCredentialReport',
          'GetCredentialReport',
          'GetCredentialReport',
        ]);
        expect(proxy.actions).not.toContain('ListUsers');
      },
    );
  });

  it('that never completes: --source report exits 3 saying it is not ready', async () => {
    await withLocalProxy(
      ({ action }) => {
        if (action === 'GenerateCredentialReport') return { status: 200, xml: generateReportXml('STARTED') };
        if (action === 'GetCredentialReport')
          return { status: 410, code: 'ReportNotPresent', message: 'Credential report not present' };
        return undefined;
      },
      async (proxy) => {
        const config = writeConfig(freshDir(), 'aws: { reportTimeoutSeconds: 1 }\n');
        const started = Date.now();
        const run = await runCli(['--config', config, 'scan', '--format', 'json', '--source', 'report'], {
          endpoint: proxy.url,
        });
        expectOneLineError(run, 3, 'credential report', 'not ready', '1s', 'reportTimeoutSeconds');
        expect(run.stdout).toBe('');
        // Well before the default 120 s deadline.
        expect(Date.now() - started).toBeLessThan(60_000);
        expect(proxy.actions.filter((a) => a === 'GenerateCredentialReport').length).toBeGreaterThanOrEqual(2);
        expect(proxy.actions).not.toContain('ListUsers');
      },
    );
  });

  it('that never completes: --source auto falls back to the API with a warning', async () => {
    await withLocalProxy(
      ({ action }) => {
        if (action === 'GenerateCredentialReport') return { status: 200, xml: generateReportXml('INPROGRESS') };
        if (action === 'GetCredentialReport')
          return { status: 404, code: 'ReportInProgress', message: 'Credential report is being generated' };
        return undefined;
      },
      async (proxy) => {
        const config = writeConfig(freshDir(), 'aws: { reportTimeoutSeconds: 1 }\n');
        const run = await runCli(['--config', config, 'scan', '--format', 'json'], { endpoint: proxy.url });
        const r = parseReport(run);
        expect(r.source).toBe('api');
        expectCorrect(r);
        const lines = run.stderr.split('\n').filter((l) => l.trim() !== '');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(
          /^dormant: warning: the credential report was not ready after 1s.*switched to the API source/,
        );
        expect(proxy.actions).toContain('ListUsers');
      },
    );
  });
});
