import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { lambdaConfig } from './lambda-config.js';

const PG = 'postgres://dormant:secret-pw@db.internal:5432/dormant';

describe('lambdaConfig', () => {
  it('takes the defaults and the store from DORMANT_STORE_URL when DORMANT_CONFIG is unset or blank', () => {
    for (const DORMANT_CONFIG of [undefined, '', '  \n']) {
      const config = lambdaConfig({ DORMANT_CONFIG, DORMANT_STORE_URL: PG });
      expect(config.inactiveDays).toBe(90);
      expect(config.review.autoApprove).toEqual([]);
      expect(config.store.url).toBe(PG);
      expect(config.aws.endpointUrl).toBeNull();
    }
  });

  it('reads DORMANT_CONFIG as dormant.yml, DORMANT_STORE_URL winning over store.url', () => {
    const config = lambdaConfig({
      DORMANT_CONFIG: '{inactiveDays: 120, store: {url: "postgres://other/db"}, review: {autoApprove: [notify]}}',
      DORMANT_STORE_URL: PG,
    });
    expect(config.inactiveDays).toBe(120);
    expect(config.review.autoApprove).toEqual(['notify']);
    expect(config.store.url).toBe(PG);
    expect(lambdaConfig({ DORMANT_CONFIG: 'store: { url: "postgresql://h/db" }' }).store.url).toBe('postgresql://h/db');
  });

  it("names DORMANT_CONFIG in its errors, as dormant.yml's name the file", () => {
    expect(() => lambdaConfig({ DORMANT_CONFIG: 'inactiveDays: [90', DORMANT_STORE_URL: PG })).toThrow(
      /^DORMANT_CONFIG: invalid YAML at line \d+, column \d+: .*; fix the variable's value$/,
    );
    expect(() => lambdaConfig({ DORMANT_CONFIG: '- a\n- b', DORMANT_STORE_URL: PG })).toThrow(
      'DORMANT_CONFIG: expected a mapping of settings at the top level',
    );
    expect(() => lambdaConfig({ DORMANT_CONFIG: 'inactiveDayz: 3', DORMANT_STORE_URL: PG })).toThrow(
      "DORMANT_CONFIG: unknown key 'inactiveDayz'",
    );
    expect(() => lambdaConfig({ DORMANT_CONFIG: 'slack: { botToken: xoxb-1 }', DORMANT_STORE_URL: PG })).toThrow(
      /secrets are never read from the config file/,
    );
  });

  it('refuses a store that is not PostgreSQL, without quoting the URL', () => {
    for (const env of [
      {},
      { DORMANT_CONFIG: 'store: { url: "sqlite:/tmp/x.db" }' },
      { DORMANT_STORE_URL: '/tmp/pw.db' },
    ]) {
      let error: unknown;
      try {
        lambdaConfig(env);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toMatch(/^the Lambda keeps its state in PostgreSQL.*DORMANT_STORE_URL/);
      expect((error as Error).message).not.toMatch(/sqlite|pw\.db|x\.db/);
    }
    expect(() => lambdaConfig({ DORMANT_STORE_URL: 'mysql://u:pw@h/db' })).toThrow(/'mysql:\/\/u:\*\*\*@h\/db'/);
  });

  it('takes AWS_ENDPOINT_URL when aws.endpointUrl is not set, and checks it', () => {
    expect(lambdaConfig({ DORMANT_STORE_URL: PG, AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }).aws.endpointUrl).toBe(
      'http://127.0.0.1:5000',
    );
    expect(
      lambdaConfig({
        DORMANT_STORE_URL: PG,
        DORMANT_CONFIG: 'aws: { endpointUrl: "http://localhost:4566" }',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:5000',
      }).aws.endpointUrl,
    ).toBe('http://localhost:4566');
    expect(() => lambdaConfig({ DORMANT_STORE_URL: PG, AWS_ENDPOINT_URL: 'not a url' })).toThrow(
      "AWS_ENDPOINT_URL 'not a url' is not a URL",
    );
  });
});
