#!/usr/bin/env node
// `npm run package:lambda`: bundles src/lambda/handler.ts and everything it imports into ONE
// file, dist-lambda/handler.mjs (ESM, Node 20 and later), and zips it as
// dist-lambda/dormant-lambda.zip for the template's CodeBucket/CodeKey
// (deploy/cloudformation.yaml: Handler handler.handler).
//
// The Lambda keeps its state in PostgreSQL, so better-sqlite3 (a native addon that cannot be
// bundled) is replaced by a stub that throws if it is ever called: the store refuses a SQLite
// URL before it would be. pg-native, which pg loads only if asked for pg.native, stays out.
import { Buffer } from 'node:buffer';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
// `--out DIR` builds elsewhere (the tests each build their own copy, so they never race).
const outFlag = process.argv.indexOf('--out');
const OUT_DIR =
  outFlag > 0 && process.argv[outFlag + 1] ? resolve(process.argv[outFlag + 1]) : join(ROOT, 'dist-lambda');
const BUNDLE = join(OUT_DIR, 'handler.mjs');
const ZIP = join(OUT_DIR, 'dormant-lambda.zip');

const noSqlite = {
  name: 'no-sqlite',
  setup(b) {
    b.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: 'better-sqlite3', namespace: 'no-sqlite' }));
    b.onLoad({ filter: /.*/, namespace: 'no-sqlite' }, () => ({
      contents:
        "export default function SqliteUnavailable() { throw new Error('SQLite is not in the Lambda bundle; set DORMANT_STORE_URL to a postgres:// URL'); }",
      loader: 'js',
    }));
  },
};

// CommonJS dependencies call require() and read __dirname; an ESM file has neither.
const banner = [
  "import { createRequire as __dormantRequire } from 'node:module';",
  "import { fileURLToPath as __dormantPath } from 'node:url';",
  "import { dirname as __dormantDir } from 'node:path';",
  'const require = __dormantRequire(import.meta.url);',
  'const __filename = __dormantPath(import.meta.url);',
  'const __dirname = __dormantDir(__filename);',
].join('\n');

/** A one-entry zip (deflate), with a fixed date so the same bundle gives the same zip. */
function zipOne(name, data) {
  const nameBytes = Buffer.from(name, 'utf8');
  const body = deflateRawSync(data, { level: 9 });
  const crc = crc32(data);
  const DOS_TIME = 0;
  const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4); // version needed
  local.writeUInt16LE(0x0800, 6); // UTF-8 name
  local.writeUInt16LE(8, 8); // deflate
  local.writeUInt16LE(DOS_TIME, 10);
  local.writeUInt16LE(DOS_DATE, 12);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(body.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  local.writeUInt16LE(0, 28);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, so the mode below is read
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(0x0800, 8);
  central.writeUInt16LE(8, 10);
  central.writeUInt16LE(DOS_TIME, 12);
  central.writeUInt16LE(DOS_DATE, 14);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(body.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // -rw-r--r--
  central.writeUInt32LE(0, 42); // offset of the local header
  const centralOffset = local.length + nameBytes.length + body.length;
  const centralSize = central.length + nameBytes.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, nameBytes, body, central, nameBytes, end]);
}

const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;

rmSync(OUT_DIR, { recursive: true, force: true });
mkdirSync(OUT_DIR, { recursive: true });
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: ['src/lambda/handler.ts'],
  outfile: BUNDLE,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Smaller to read at a cold start; class names kept: errors are named after them.
  minify: true,
  keepNames: true,
  legalComments: 'eof',
  banner: { js: banner },
  external: ['pg-native'],
  plugins: [noSqlite],
  metafile: true,
  logLevel: 'warning',
});

const inputs = Object.keys(result.metafile.inputs);
if (inputs.some((p) => p.includes('node_modules/better-sqlite3/'))) {
  throw new Error('package-lambda: better-sqlite3 ended up in the bundle; the no-sqlite stub did not apply');
}
writeFileSync(ZIP, zipOne('handler.mjs', readFileSync(BUNDLE)));

const packages = new Map();
for (const [path, info] of Object.entries(result.metafile.outputs[relative(ROOT, BUNDLE)].inputs)) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  const key = m ? m[1] : 'dormant (src/)';
  packages.set(key, (packages.get(key) ?? 0) + info.bytesInOutput);
}
const top = [...packages].sort((a, b) => b[1] - a[1]).slice(0, 8);
process.stdout.write(
  `package-lambda: ${relative(ROOT, BUNDLE)} ${kib(statSync(BUNDLE).size)}, ${relative(ROOT, ZIP)} ${kib(statSync(ZIP).size)}\n` +
    `package-lambda: largest parts: ${top.map(([k, v]) => `${k} ${kib(v)}`).join(', ')}\n`,
);
