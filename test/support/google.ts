// Test harness for the Google provider: a throwaway service account key (generated at test
// time, never committed), a GoogleContext over the in-memory Google APIs built with Google's
// own client libraries (the same code path as production, with the fetch swapped), and a
// loopback HTTP server in front of the same APIs for CLI tests in a child process.
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as admin from '@googleapis/admin';
import * as auth from 'google-auth-library';
import * as iam from '@googleapis/iam';
import { googleSchema, type GoogleConfig } from '../../src/config/google.js';
import { createGoogleApis, type ServiceAccountKey } from '../../src/providers/google/google-auth.js';
import type { GoogleContext } from '../../src/providers/google/google-context.js';
import { createGoogleFetch, GoogleCallCounter } from '../../src/providers/google/google-http.js';
import { GoogleMemory, type GoogleMemoryOptions } from '../../src/providers/google/memory/google-memory.js';

export const TEST_SA_EMAIL = 'dormant-scanner@dormant-admin.iam.gserviceaccount.com';
export const TEST_SA_CLIENT_ID = '104321987654321098765';

let cachedKey: { key: ServiceAccountKey; publicKeyPem: string } | null = null;

/** A service account key file's content with a fresh RSA key (one per test process). */
export function testServiceAccountKey(): { key: ServiceAccountKey; publicKeyPem: string } {
  if (!cachedKey) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    cachedKey = {
      key: {
        type: 'service_account',
        project_id: 'dormant-admin',
        private_key_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
        private_key: privateKey,
        client_email: TEST_SA_EMAIL,
        client_id: TEST_SA_CLIENT_ID,
      },
      publicKeyPem: publicKey,
    };
  }
  return cachedKey;
}

/** A GoogleMemory that trusts the test key. Delegation is granted separately (`memory.delegate`). */
export function testGoogleMemory(options: GoogleMemoryOptions): GoogleMemory {
  const memory = new GoogleMemory(options);
  const { key, publicKeyPem } = testServiceAccountKey();
  memory.registerServiceAccount(key.client_email, publicKeyPem, key.client_id!);
  return memory;
}

export interface TestContextOptions {
  google?: Record<string, unknown>;
  clock?: () => Date;
  /** Backoff base for retries (default 1 ms, so throttling tests do not wait). */
  backoffMs?: number;
}

/** A GoogleContext whose every request goes to `memory`, through google-auth-library and the generated clients. */
export function googleTestContext(memory: GoogleMemory, options: TestContextOptions = {}): GoogleContext {
  const google: GoogleConfig = googleSchema.parse({
    enabled: true,
    subject: 'admin@example.com',
    ...(options.google ?? {}),
  });
  const counter = new GoogleCallCounter();
  const fetch = createGoogleFetch({
    base: memory.fetch,
    counter,
    tokenUrl: null,
    maxAttempts: google.maxAttempts,
    backoffMs: options.backoffMs ?? 1,
  });
  const { apis } = createGoogleApis({ sdks: { auth, admin, iam }, google, fetch, key: testServiceAccountKey().key });
  return { google, apis, counter, clock: options.clock ?? (() => new Date()) };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Serve `memory` on http://127.0.0.1:PORT (every API and /token on one origin). */
export async function startGoogleServer(memory: GoogleMemory): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const url = `http://127.0.0.1${req.url ?? '/'}`;
      const answer = await memory.fetch(
        new Request(url, {
          method: req.method ?? 'GET',
          headers,
          ...(body.length > 0 && req.method !== 'GET' ? { body: new Uint8Array(body) } : {}),
        }),
      );
      res.writeHead(answer.status, Object.fromEntries(answer.headers));
      res.end(Buffer.from(await answer.arrayBuffer()));
    })().catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
