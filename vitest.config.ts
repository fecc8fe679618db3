// Vitest configuration: unit tests live next to the code (src/), integration
// tests and the moto harness under test/.
import { defineConfig } from 'vitest/config';
import { ensureTestTls } from './test/support/tls.js';

// The local HTTPS fakes (Entra ID / Graph) use a throwaway CA made at test time. Node reads
// NODE_EXTRA_CA_CERTS only at process start, so set it here, before the forked workers (and
// the CLI child processes they spawn, which inherit it) are started.
// If openssl is missing only the HTTPS-fake tests fail (they say why); the rest still run.
try {
  process.env.NODE_EXTRA_CA_CERTS = ensureTestTls().caPath;
} catch (err) {
  console.warn(`vitest.config: no test TLS certificates (${err instanceof Error ? err.message : String(err)})`);
}

export default defineConfig({
  test: {
    include: ['src/**/*.test.{ts,tsx}', 'test/**/*.test.{ts,tsx}'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
