// Ad-hoc probe: peak RSS of a whole CLI scan of 5,000 users on moto, per source.
import { spawnSync } from 'node:child_process';
import { startMoto, awsTestEnv } from '../test/support/moto.js';
import { syntheticAccount } from './scan-seed.js';

const moto = await startMoto();
const acct = syntheticAccount(5000, { seed: 7, now: Date.now() });
await moto.seed({ users: acct.users });
for (const source of ['report', 'api']) {
  const t0 = Date.now();
  const r = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      'RSS_KB=%M',
      'node',
      'dist/cli/main.js',
      'scan',
      '--source',
      source,
      '--format',
      'json',
      '--output',
      '/tmp/x.json',
      '--quiet',
    ],
    { env: { ...process.env, ...awsTestEnv(moto.endpoint) }, encoding: 'utf8' },
  );
  console.log(source, `${Date.now() - t0} ms`, r.status, (r.stderr.match(/RSS_KB=\d+/) ?? [r.stderr.slice(0, 300)])[0]);
}
await moto.stop();
