/**
 * IAM and STS clients built from the CLI/config settings (profile, region, endpoint, retry
 * mode), and a per-operation call counter. SDK errors are classified in aws-errors.ts.
 */
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { Readable } from 'node:stream';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

export interface AwsSettings {
  profile: string | null;
  region: string;
  /** Custom endpoint (moto, a proxy). The SDK also honours AWS_ENDPOINT_URL by itself. */
  endpointUrl: string | null;
  maxAttempts: number;
  retryMode: 'standard' | 'adaptive';
  concurrency: number;
}

/** Counts logical API calls per operation (not retries), for `--verbose` and the benchmark. */
export class CallCounter {
  readonly byOperation = new Map<string, number>();

  add(operation: string): void {
    this.byOperation.set(operation, (this.byOperation.get(operation) ?? 0) + 1);
  }

  total(prefix = ''): number {
    let n = 0;
    for (const [op, count] of this.byOperation) if (op.startsWith(prefix)) n += count;
    return n;
  }
}

export interface AwsClients {
  iam: IAMClient;
  sts: STSClient;
  calls: CallCounter;
  /** The last GetCredentialReport content, lifted out of the XML before the SDK parses it. */
  reportContent: { value: Buffer | null };
  settings: AwsSettings;
  /** The explicit credentials these clients sign with (a member account's role); absent: the default chain. */
  credentials?: AwsCredentialIdentityProvider;
  destroy(): void;
}

/**
 * `credentials`: a provider of temporary credentials (a member account's assumed role); absent,
 * the SDK's default chain (profile, environment, instance role).
 */
export function createAwsClients(
  settings: AwsSettings,
  calls = new CallCounter(),
  credentials?: AwsCredentialIdentityProvider,
): AwsClients {
  const common = {
    ...(credentials ? { credentials } : {}),
    region: settings.region,
    maxAttempts: settings.maxAttempts,
    retryMode: settings.retryMode,
    ...(settings.profile && !credentials ? { profile: settings.profile } : {}),
    ...(settings.endpointUrl ? { endpoint: settings.endpointUrl } : {}),
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 5_000,
      requestTimeout: 60_000,
      httpAgent: { maxSockets: Math.max(settings.concurrency * 2, 16), keepAlive: true },
      httpsAgent: { maxSockets: Math.max(settings.concurrency * 2, 16), keepAlive: true },
    }),
  };
  const iam = new IAMClient(common);
  const sts = new STSClient(common);
  const counter = (service: string) =>
    ((next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => {
      calls.add(`${service}:${String(context.commandName ?? 'unknown').replace(/Command$/, '')}`);
      return next(args);
    }) as unknown as Parameters<typeof iam.middlewareStack.addRelativeTo>[0];
  iam.middlewareStack.add(counter('iam') as never, { step: 'initialize', name: 'dormantCallCounter' });
  const reportContent: { value: Buffer | null } = { value: null };
  iam.middlewareStack.add(liftReportContent(reportContent) as never, {
    step: 'deserialize',
    priority: 'low',
    name: 'dormantLiftReportContent',
  });
  sts.middlewareStack.add(counter('sts') as never, { step: 'initialize', name: 'dormantCallCounter' });
  return {
    iam,
    sts,
    calls,
    reportContent,
    settings,
    ...(credentials ? { credentials } : {}),
    destroy() {
      iam.destroy();
      sts.destroy();
    },
  };
}

/**
 * The credential report arrives as megabytes of base64 inside XML; the SDK's XML parser needs
 * several times that in memory. For a successful GetCredentialReport, take the base64 out of
 * the raw body ourselves and let the SDK parse the small rest (DESIGN §7: stay under 200 MB).
 */
function liftReportContent(holder: { value: Buffer | null }) {
  return (
      next: (args: unknown) => Promise<{ response: { statusCode?: number; body?: unknown } }>,
      context: { commandName?: string },
    ) =>
    async (args: unknown) => {
      const result = await next(args);
      const response = result.response;
      if (context.commandName !== 'GetCredentialReportCommand' || response.statusCode !== 200) return result;
      const chunks: Buffer[] = [];
      for await (const chunk of response.body as AsyncIterable<Buffer | string>) {
        chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      }
      const xml = Buffer.concat(chunks).toString('utf8');
      const open = xml.indexOf('<Content>');
      const close = xml.indexOf('</Content>', open);
      if (open >= 0 && close > open) {
        holder.value = Buffer.from(xml.slice(open + '<Content>'.length, close).replace(/\s+/g, ''), 'base64');
        response.body = Readable.from([Buffer.from(xml.slice(0, open) + xml.slice(close + '</Content>'.length))]);
      } else {
        holder.value = null;
        response.body = Readable.from([Buffer.from(xml)]);
      }
      return result;
    };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
