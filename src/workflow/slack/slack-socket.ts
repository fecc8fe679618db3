/**
 * Socket Mode: clicks arrive over a WebSocket the app opens (apps.connections.open with the
 * app-level token), so no public URL is needed. Each `interactive` envelope is acked at once,
 * then `block_actions` payloads go to SlackReview.handleAction.
 */
import { LogLevel, SocketModeClient } from '@slack/socket-mode';
import type { Config } from '../../config/config.js';
import { CloudError } from '../../errors.js';
import { readSecret } from '../secrets.js';
import { redactSecrets, slackApiBase, slackErrorCode } from './slack-errors.js';
import type { ActionOutcome, BlockActionsPayload, SlackReview } from './slack-review.js';

export interface SlackSocketOptions {
  appToken: string;
  review: Pick<SlackReview, 'handleAction'>;
  /** Slack API base URL (tests, Enterprise Grid proxies). */
  apiUrl?: string | null;
  /** Where connection problems and failed clicks are reported; tokens are redacted. */
  log?: (line: string) => void;
  /** Called after each handled click (tests, metrics). */
  onAction?: (outcome: ActionOutcome | null) => void;
  /** Reconnect when Slack drops the socket (it does, routinely). Default true. */
  autoReconnect?: boolean;
}

interface InteractiveEvent {
  ack: (response?: Record<string, unknown>) => Promise<void>;
  body: unknown;
}

export class SlackSocketReceiver {
  private readonly client: SocketModeClient;
  private readonly log: (line: string) => void;

  constructor(private readonly options: SlackSocketOptions) {
    const secrets = [options.appToken];
    this.log = (line) => (options.log ?? (() => undefined))(redactSecrets(line, secrets));
    const say =
      (level: string) =>
      (...msg: unknown[]) =>
        this.log(`slack socket ${level}: ${msg.map(String).join(' ')}`);
    const quiet = () => undefined;
    this.client = new SocketModeClient({
      appToken: options.appToken,
      autoReconnectEnabled: options.autoReconnect ?? true,
      logger: {
        debug: quiet,
        info: quiet,
        warn: say('warning'),
        error: say('error'),
        setLevel: quiet,
        getLevel: () => LogLevel.WARN,
        setName: quiet,
      },
      clientOptions: { slackApiUrl: slackApiBase(options.apiUrl), retryConfig: { retries: 2 } },
    });
    this.client.on('interactive', (event: InteractiveEvent) => void this.onInteractive(event));
  }

  static fromConfig(
    review: Pick<SlackReview, 'handleAction'>,
    config: Config,
    log?: (line: string) => void,
  ): SlackSocketReceiver {
    const appToken = readSecret(config.slack.appToken, 'Slack app-level token', 'slack.appToken');
    return new SlackSocketReceiver({ appToken, review, apiUrl: config.slack.apiUrl, ...(log ? { log } : {}) });
  }

  private async onInteractive({ ack, body }: InteractiveEvent): Promise<void> {
    try {
      await ack();
    } catch (err) {
      this.log(`could not acknowledge a Slack event: ${err instanceof Error ? err.message : String(err)}`);
    }
    const payload = body as BlockActionsPayload | null;
    if (!payload || payload.type !== 'block_actions') {
      this.options.onAction?.(null);
      return;
    }
    let outcome: ActionOutcome | null = null;
    try {
      outcome = await this.options.review.handleAction(payload);
    } catch (err) {
      this.log(`a Slack click could not be handled: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.options.onAction?.(outcome);
  }

  /** Open the connection; resolves once Slack said hello. */
  async start(): Promise<void> {
    try {
      await this.client.start();
    } catch (err) {
      const code = slackErrorCode(err);
      throw new CloudError(
        redactSecrets(
          `Slack Socket Mode could not connect: ${code}; check the app-level token named by slack.appToken`,
          [this.options.appToken],
        ),
        'SlackError',
      );
    }
  }

  async stop(): Promise<void> {
    await this.client.disconnect();
  }
}
