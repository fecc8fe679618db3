// The dashboard from the command line (the built CLI, so `npm run build` first): `dormant ui`'s
// one-time link (works once, never again), its refusals (no store, a bad or busy port), and
// `dormant serve` with web.enabled: one-line config and secret errors (exit 2), and the
// dashboard behind a real OIDC sign-in with the health checks outside it.
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Store } from '../src/store/store.js';
import { type RunningCli, runCli, startCli } from './support/cli.js';
import { listenLocal } from './support/http.js';
import { awsTestEnv } from './support/moto.js';
import { type TestOidcProvider, startOidcProvider } from './support/oidcProvider.js';
import { waitFor } from './support/serve.js';
import { WebClient, signIn } from './support/webClient.js';
import { ACCOUNTS, APPROVERS, VIEWERS } from './support/webWorld.js';

const dir = mkdtempSync(join(tmpdir(), 'dormant-web-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const running: RunningCli[] = [];
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cli of running.splice(0)) {
    cli.kill('SIGKILL');
    await cli.exited;
  }
  for (const stop of stops.splice(0)) await stop();
});

let seq = 0;
async function emptyStore(): Promise<string> {
  const path = join(dir, `state-${++seq}.db`);
  await (await Store.open(path)).close();
  return path;
}

async function freePort(): Promise<number> {
  const s = await listenLocal(http.createServer());
  await s.stop();
  return s.port;
}

/** A GET with the Host header given (fetch does not let a caller set it). */
function rawGet(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

const LINK = /^ {2}(http:\/\/127\.0\.0\.1:(\d+)\/auth\/link\?token=([\w-]+))$/m;

describe('dormant ui', () => {
  it('prints a one-time link on 127.0.0.1 that signs in once and never again', async () => {
    const db = await emptyStore();
    const cli = startCli(['ui', '--port', '0', '--db', `sqlite:${db}`], { env: { DORMANT_OPERATOR: 'olga' } });
    running.push(cli);
    const [, link, port, token] = await waitFor('the sign-in link', () => LINK.exec(cli.stdout()));
    const origin = `http://127.0.0.1:${port}`;
    expect(cli.stdout()).toContain(`dormant ui: the dashboard is on ${origin} (this machine only)`);

    const anonymous = new WebClient();
    const before = await anonymous.request(`${origin}/`);
    expect(before.status).toBe(401);
    expect(await before.text()).toContain('Open the sign-in link dormant ui printed');

    const wrong = await anonymous.request(`${origin}/auth/link?token=${token!.slice(0, -3)}abc`);
    expect(wrong.status).toBe(403);
    expect(await wrong.text()).toContain('This link is not valid');

    const me = new WebClient();
    const first = await me.request(link!);
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toBe('/');
    const overview = await me.request(`${origin}/`);
    expect(overview.status).toBe(200);
    const html = await overview.text();
    expect(html).toContain('olga');
    expect(html).not.toContain(token!);

    for (const client of [new WebClient(), me]) {
      const again = await client.request(link!);
      expect(again.status).toBe(410);
      expect(await again.text()).toContain('This link was already used');
    }
    // The session the first visit started still works; the link never does again.
    expect((await me.request(`${origin}/plans`)).status).toBe(200);
    expect(cli.stderr()).not.toContain(token!);

    // A page that rebinds its DNS name to 127.0.0.1 reaches the port, with its own name as Host.
    const rebound = await rawGet(Number(port), '/', 'attacker.example:' + port);
    expect(rebound.status).toBe(421);
    expect(rebound.body).toContain('This dashboard answers only at 127.0.0.1 or localhost');
    expect((await rawGet(Number(port), '/', `localhost:${port}`)).status).toBe(401);

    cli.kill('SIGTERM');
    const exit = await cli.exited;
    expect(exit.code).toBe(0);
    expect(exit.stdout).toContain('dormant ui: stopped');
  });

  it('refuses a missing store, a bad port and a busy one with one line and exit 2', async () => {
    const missing = await runCli(['ui', '--db', `sqlite:${join(dir, 'nowhere', 'state.db')}`], { timeoutMs: 20_000 });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /^dormant: no store at .*nowhere\/state\.db yet; .*'dormant demo --ui' shows the dashboard on example data\n$/,
    );

    const db = await emptyStore();
    const bad = await runCli(['ui', '--port', 'eighty', '--db', `sqlite:${db}`], { timeoutMs: 20_000 });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("dormant: --port must be a whole number, got 'eighty'\n");

    const busy = await listenLocal(http.createServer());
    stops.push(() => busy.stop());
    const taken = await runCli(['ui', '--port', String(busy.port), '--db', `sqlite:${db}`], { timeoutMs: 20_000 });
    expect(taken.code).toBe(2);
    expect(taken.stderr).toBe(
      `dormant: port ${busy.port} on 127.0.0.1 is in use; pass --port with a free port (or 0 for any)\n`,
    );
  });
});

describe('dormant demo --ui', () => {
  it("serves the demo's store in the dashboard, behind the one-time link", async () => {
    const cli = startCli(['demo', '--ui', '--port', '0'], { env: { DORMANT_OPERATOR: 'newcomer' } });
    running.push(cli);
    const [, link, port] = await waitFor('the sign-in link', () => LINK.exec(cli.stdout()), { timeoutMs: 60_000 });
    expect(cli.stdout()).toContain('dormant demo — 3. the dashboard, on this demo store');
    const origin = `http://127.0.0.1:${port}`;
    const me = new WebClient();
    expect((await me.request(link!)).status).toBe(302);
    const findings = await me.request(`${origin}/findings?q=quinn`);
    expect(findings.status).toBe(200);
    expect(await findings.text()).toContain('quinn.foster');
    // The demo applied and restored: its backups are there, with restore behind a confirmation.
    const backups = await (await me.request(`${origin}/backups`)).text();
    expect(backups).toMatch(/Restore [\w.@-]+…/);
    cli.kill('SIGINT');
    const exit = await cli.exited;
    expect(exit.code).toBe(0);
    expect(exit.stdout).toContain('dormant ui: stopped');
  });

  it('refuses --port without --ui', async () => {
    const exit = await runCli(['demo', '--port', '8080'], { timeoutMs: 20_000 });
    expect(exit.code).toBe(2);
    expect(exit.stderr).toBe('dormant: --port goes with --ui\n');
  });
});

describe('dormant serve with the dashboard', () => {
  function writeConfig(web: Record<string, unknown>): string {
    const path = join(dir, `dormant-${++seq}.yml`);
    const config = { serve: { schedule: '0 0 1 1 *', applySchedule: '0 0 1 1 *' }, web };
    writeFileSync(path, JSON.stringify(config));
    return path;
  }
  const complete = (o: { baseUrl: string; issuer: string }) => ({
    enabled: true,
    baseUrl: o.baseUrl,
    oidc: { issuer: o.issuer, clientId: 'dormant-dashboard' },
    approvers: APPROVERS,
    viewers: VIEWERS,
  });
  const serve = (config: string, env: Record<string, string>) =>
    runCli(['serve', '--port', '0', '--config', config, '--db', `sqlite:${join(dir, `serve-${++seq}.db`)}`], {
      env,
      timeoutMs: 30_000,
    });

  it('refuses an incomplete web section and missing or weak secrets with one line and exit 2', async () => {
    const noIssuer = await serve(writeConfig({ enabled: true, baseUrl: 'https://dormant.example.com' }), {});
    expect(noIssuer.code).toBe(2);
    expect(noIssuer.stderr).toMatch(
      /^dormant: .*dormant-\d+\.yml: web\.oidc\.issuer: needed when web\.enabled is true; set it to your OIDC provider's issuer URL\n$/,
    );
    const nobody = await serve(
      writeConfig({
        ...complete({ baseUrl: 'https://d.example.com', issuer: 'https://id.example.com' }),
        approvers: [],
        viewers: [],
      }),
      {},
    );
    expect(nobody.code).toBe(2);
    expect(nobody.stderr).toMatch(/web\.approvers: web\.enabled needs at least one approver or viewer/);

    const config = writeConfig(complete({ baseUrl: 'https://d.example.com', issuer: 'https://id.example.com' }));
    const noSecret = await serve(config, { DORMANT_OIDC_CLIENT_SECRET: 's3cr3t' });
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toBe(
      'dormant: the dashboard session secret is not set: export DORMANT_SESSION_SECRET or set web.sessionSecret.file\n',
    );
    const weak = await serve(config, { DORMANT_SESSION_SECRET: 'short', DORMANT_OIDC_CLIENT_SECRET: 's3cr3t' });
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/^dormant: the dashboard session secret must be at least 32 characters/);
    expect(weak.stderr).not.toContain('short');
    const noClientSecret = await serve(config, { DORMANT_SESSION_SECRET: 'x'.repeat(40) });
    expect(noClientSecret.code).toBe(2);
    expect(noClientSecret.stderr).toBe(
      'dormant: the OIDC client secret is not set: export DORMANT_OIDC_CLIENT_SECRET or set web.oidc.clientSecret.file\n',
    );
    const inYaml = await serve(
      writeConfig({
        ...complete({ baseUrl: 'https://d.example.com', issuer: 'https://id.example.com' }),
        sessionSecret: 'hunter2',
      }),
      {},
    );
    expect(inYaml.code).toBe(2);
    expect(inYaml.stderr).toMatch(/web\.sessionSecret: secrets are never read from the config file/);
    expect(inYaml.stderr).not.toContain('hunter2');
  });

  it('serves the dashboard at / behind OIDC sign-in, with /healthz and /readyz outside it', async () => {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const oidc: TestOidcProvider = await startOidcProvider({
      accounts: ACCOUNTS,
      redirectUris: [`${baseUrl}/auth/callback`],
    });
    stops.push(() => oidc.stop());
    const config = writeConfig(complete({ baseUrl, issuer: oidc.issuer }));
    const sessionSecret = 'q'.repeat(48);
    const cli = startCli(
      ['serve', '--port', String(port), '--config', config, '--db', `sqlite:${join(dir, 'serve.db')}`],
      {
        env: {
          ...awsTestEnv('http://127.0.0.1:9'),
          DORMANT_SESSION_SECRET: sessionSecret,
          DORMANT_OIDC_CLIENT_SECRET: oidc.clientSecret,
        },
      },
    );
    running.push(cli);
    await waitFor('dormant serve to listen', () => cli.stdout().includes('listening on'), { timeoutMs: 30_000 });

    const client = new WebClient();
    expect((await client.request(`${baseUrl}/healthz`)).status).toBe(200);
    expect((await client.request(`${baseUrl}/readyz`)).status).toBe(200);
    const page = await client.request(`${baseUrl}/`);
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/auth/login?next=%2F');
    const { callback } = await signIn(client, baseUrl, 'gail');
    expect(callback.status).toBe(302);
    const overview = await client.request(`${baseUrl}/`);
    expect(overview.status).toBe(200);
    expect(await overview.text()).toContain('gail@example.com');

    cli.kill('SIGTERM');
    const exit = await cli.exited;
    expect(exit.code).toBe(0);
    for (const secret of [sessionSecret, oidc.clientSecret]) {
      expect(exit.stdout).not.toContain(secret);
      expect(exit.stderr).not.toContain(secret);
    }
  });
});
