// Test harness: throwaway TLS material for local HTTPS fakes (MSAL refuses a non-https
// authority, so the Entra/Graph fake must speak TLS). Everything is generated at test time
// with the openssl CLI into a stable directory under the OS tmp dir; nothing here is ever
// committed, and the CA's private key is deleted as soon as the server certificate is signed.
//
// - ensureTestTls() makes sure <tmp>/dormant-test-tls/{ca.pem,server.pem,server-key.pem} exist
//   (a CA plus a server certificate for 127.0.0.1, ::1 and localhost) and returns them. It is
//   called by vitest.config.ts, which points NODE_EXTRA_CA_CERTS at ca.pem before any worker is
//   forked (Node reads that variable only at process start), and again by each fake in the
//   workers, which then find the same files. Creation is atomic (build in a private directory,
//   then rename it into place), so parallel workers never see half-written files.
// - createAppCertificate() makes a self-signed certificate + key for an app registration
//   (client-certificate credentials), with chosen validity dates (e.g. already expired).
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestTls {
  /** The CA certificate (PEM) that signed `cert`; trusted through NODE_EXTRA_CA_CERTS. */
  ca: string;
  /** The server certificate (PEM), valid for 127.0.0.1, ::1 and localhost. */
  cert: string;
  /** The server's private key (PEM). */
  key: string;
  caPath: string;
  certPath: string;
  keyPath: string;
}

const OPENSSL = existsSync('/usr/bin/openssl') ? '/usr/bin/openssl' : 'openssl';

function openssl(args: string[], cwd: string): void {
  execFileSync(OPENSSL, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** The directory the TLS files live in (stable across processes of one machine/user). */
export function testTlsDir(): string {
  return join(tmpdir(), 'dormant-test-tls');
}

function readTls(dir: string): TestTls | null {
  const caPath = join(dir, 'ca.pem');
  const certPath = join(dir, 'server.pem');
  const keyPath = join(dir, 'server-key.pem');
  try {
    const ca = readFileSync(caPath, 'utf8');
    const cert = readFileSync(certPath, 'utf8');
    const key = readFileSync(keyPath, 'utf8');
    const x = new X509Certificate(cert);
    const caX = new X509Certificate(ca);
    // Still valid for at least a day, and really signed by this CA.
    if (new Date(x.validTo).getTime() < Date.now() + 86_400_000) return null;
    if (!x.verify(caX.publicKey)) return null;
    return { ca, cert, key, caPath, certPath, keyPath };
  } catch {
    return null;
  }
}

function generate(dir: string): void {
  writeFileSync(
    join(dir, 'server.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost',
      '',
    ].join('\n'),
  );
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-sha256',
      '-keyout',
      'ca-key.pem',
      '-out',
      'ca.pem',
      '-days',
      '3650',
      '-subj',
      '/CN=dormant throwaway test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  openssl(
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'server-key.pem',
      '-out',
      'server.csr',
      '-subj',
      '/CN=localhost',
    ],
    dir,
  );
  openssl(
    [
      'x509',
      '-req',
      '-sha256',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      '-days',
      '825',
      '-extfile',
      'server.ext',
      '-out',
      'server.pem',
    ],
    dir,
  );
  // The CA key is never needed again: drop it so nobody can mint more certificates with it.
  for (const f of ['ca-key.pem', 'server.csr', 'server.ext']) rmSync(join(dir, f), { force: true });
}

/**
 * Ensures the throwaway CA and server certificate exist (creating them atomically if not, or if
 * the server certificate is about to expire) and returns them.
 */
export function ensureTestTls(): TestTls {
  const dir = testTlsDir();
  const existing = readTls(dir);
  if (existing) return existing;

  const parent = tmpdir();
  const work = mkdtempSync(join(parent, 'dormant-test-tls.tmp-'));
  try {
    generate(work);
    // Another process may have finished first while we generated: keep its files.
    const raced = readTls(dir);
    if (raced) return raced;
    if (existsSync(dir)) {
      // Stale or broken: move it aside (another process may be doing the same; either wins).
      const trash = `${dir}.old-${process.pid}-${randomBytes(4).toString('hex')}`;
      try {
        renameSync(dir, trash);
        rmSync(trash, { recursive: true, force: true });
      } catch {
        // someone else moved it first
      }
    }
    try {
      renameSync(work, dir);
    } catch {
      // Another process won the race: use its files.
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const made = readTls(dir);
  if (!made) throw new Error(`test TLS: could not create certificates in ${dir}`);
  return made;
}

// ---- app registration certificates ---------------------------------------------------------

export interface AppCertificate {
  /** The public certificate (PEM): what is registered on the app. */
  certPem: string;
  /** The private key (PEM, PKCS#8). */
  keyPem: string;
  /** Key + certificate in one PEM, the form ClientCertificateCredential takes. */
  pem: string;
  /** Hex, upper case, of the DER: what Entra shows as the thumbprint. */
  thumbprintSha1: string;
  thumbprintSha256: string;
  notBefore: Date;
  notAfter: Date;
}

function opensslDate(d: Date): string {
  // YYYYMMDDHHMMSSZ (GeneralizedTime), as `openssl ca -startdate/-enddate` take it.
  return d
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A self-signed RSA certificate for an app registration, valid from `notBefore` (default: one
 * hour ago) to `notAfter` (default: in a year). Pass dates in the past for an expired one.
 */
export function createAppCertificate(
  options: { commonName?: string; notBefore?: Date; notAfter?: Date } = {},
): AppCertificate {
  const notBefore = options.notBefore ?? new Date(Date.now() - 3_600_000);
  const notAfter = options.notAfter ?? new Date(Date.now() + 365 * 86_400_000);
  const work = mkdtempSync(join(tmpdir(), 'dormant-app-cert-'));
  try {
    mkdirSync(join(work, 'out'));
    writeFileSync(
      join(work, 'ca.cnf'),
      [
        '[ ca ]',
        'default_ca = d',
        '[ d ]',
        'database = index.txt',
        'new_certs_dir = out',
        'serial = serial',
        'default_md = sha256',
        'policy = p',
        'unique_subject = no',
        'copy_extensions = none',
        '[ p ]',
        'commonName = supplied',
        '',
      ].join('\n'),
    );
    writeFileSync(join(work, 'index.txt'), '');
    writeFileSync(join(work, 'serial'), `${randomBytes(8).toString('hex').toUpperCase()}\n`);
    openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'key.pem'], work);
    openssl(
      ['req', '-new', '-key', 'key.pem', '-subj', `/CN=${options.commonName ?? 'dormant-test-app'}`, '-out', 'r.csr'],
      work,
    );
    openssl(
      [
        'ca',
        '-batch',
        '-config',
        'ca.cnf',
        '-selfsign',
        '-keyfile',
        'key.pem',
        '-in',
        'r.csr',
        '-startdate',
        opensslDate(notBefore),
        '-enddate',
        opensslDate(notAfter),
        '-notext',
        '-out',
        'cert.pem',
      ],
      work,
    );
    const certPem = readFileSync(join(work, 'cert.pem'), 'utf8');
    const keyPem = readFileSync(join(work, 'key.pem'), 'utf8');
    const x = new X509Certificate(certPem);
    return {
      certPem,
      keyPem,
      pem: `${keyPem.trim()}\n${certPem.trim()}\n`,
      thumbprintSha1: createHash('sha1').update(x.raw).digest('hex').toUpperCase(),
      thumbprintSha256: createHash('sha256').update(x.raw).digest('hex').toUpperCase(),
      notBefore: new Date(x.validFrom),
      notAfter: new Date(x.validTo),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
