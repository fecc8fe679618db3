/**
 * The Lambda's configuration, read from its environment: `DORMANT_CONFIG` (the YAML of a
 * dormant.yml, validated like one) or the defaults, and the PostgreSQL store from
 * `DORMANT_STORE_URL` (the template resolves it from Secrets Manager) or `store.url`.
 */
import { parseDocument } from 'yaml';
import { type Config, parseConfig } from '../config/config.js';
import { UsageError } from '../errors.js';
import { parseStoreUrl } from '../store/store.js';

/** The environment variables the handler reads (besides the SDKs' own, e.g. AWS_REGION). */
export interface LambdaEnv {
  /** YAML, the same keys as dormant.yml. Unset or blank: every default. */
  DORMANT_CONFIG?: string | undefined;
  /** A postgres:// URL; wins over store.url. Never logged. */
  DORMANT_STORE_URL?: string | undefined;
  /** Point the AWS SDK elsewhere (tests: moto), as the CLI does. */
  AWS_ENDPOINT_URL?: string | undefined;
}

const SOURCE = 'DORMANT_CONFIG';

/** The config from `DORMANT_CONFIG`, with the errors `dormant.yml` gets, naming the variable instead of a file. */
export function lambdaConfig(env: LambdaEnv): Config {
  const text = env.DORMANT_CONFIG?.trim() ?? '';
  let raw: unknown = {};
  if (text !== '') {
    const doc = parseDocument(text, { uniqueKeys: true });
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      const pos = e.linePos?.[0];
      const at = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
      const what = e.message.split('\n')[0]!.replace(/[:\s]+$/, '');
      throw new UsageError(`${SOURCE}: invalid YAML${at}: ${what}; fix the variable's value`);
    }
    raw = doc.toJS();
    if (raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
      throw new UsageError(`${SOURCE}: expected a mapping of settings at the top level (see README "Configuration")`);
    }
  }
  const config = parseConfig(raw, SOURCE);

  const url = env.DORMANT_STORE_URL?.trim() || config.store.url;
  // The message never quotes the URL: it may carry the database password.
  if (parseStoreUrl(url).engine !== 'postgres') {
    throw new UsageError(
      'the Lambda keeps its state in PostgreSQL, and no postgres:// URL is set: set DORMANT_STORE_URL (the template resolves it from Secrets Manager) or store.url in DORMANT_CONFIG',
    );
  }
  config.store.url = url;

  const endpoint = config.aws.endpointUrl ?? (env.AWS_ENDPOINT_URL?.trim() || null);
  if (endpoint !== null && !URL.canParse(endpoint)) {
    throw new UsageError(
      `AWS_ENDPOINT_URL '${endpoint}' is not a URL; set it to e.g. http://localhost:5000 or unset it`,
    );
  }
  config.aws.endpointUrl = endpoint;
  return config;
}
