/**
 * A local fake of the Slack Web API (and of Socket Mode's WebSocket), for tests. It checks
 * requests the way Slack does — the bearer token, required fields, Block Kit shape and
 * limits — answers like Slack (`{ok:false, error}` with HTTP 200), records every call and
 * keeps the messages, so a test can read what a message shows right now.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { type LocalServer, listenLocal, readBody } from './http.js';

export interface FakeCall {
  method: string;
  body: Record<string, unknown>;
  ok: boolean;
  error: string | null;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  text: string | null;
  blocks: Block[];
  updates: number;
}

export interface FakeEphemeral {
  channel: string;
  user: string;
  text: string;
}

type Block = Record<string, unknown>;

export interface SlackFakeOptions {
  botToken?: string;
  appToken?: string;
  /** email → Slack user id, for users.lookupByEmail. */
  users?: Record<string, string>;
}

// ---- Block Kit validation ------------------------------------------------------------------

const BLOCK_TYPES = new Set(['section', 'actions', 'context', 'header', 'divider']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkText(t: unknown, where: string, max: number, kinds: string[] = ['mrkdwn', 'plain_text']): string | null {
  if (!isObject(t)) return `${where}: text object expected`;
  if (typeof t.type !== 'string' || !kinds.includes(t.type)) return `${where}: text type must be ${kinds.join('|')}`;
  if (typeof t.text !== 'string' || t.text.length === 0) return `${where}: text must be a non-empty string`;
  if (t.text.length > max) return `${where}: text longer than ${max} characters (${t.text.length})`;
  return null;
}

/** Slack's rules for the blocks this tool uses; returns what is wrong, or null. */
export function validateBlocks(blocks: unknown): string | null {
  if (!Array.isArray(blocks)) return 'blocks must be an array';
  if (blocks.length === 0) return 'blocks must not be empty';
  if (blocks.length > 50) return `too many blocks (${blocks.length} > 50)`;
  const blockIds = new Set<string>();
  for (const [i, b] of blocks.entries()) {
    const where = `blocks[${i}]`;
    if (!isObject(b)) return `${where}: object expected`;
    if (typeof b.type !== 'string' || !BLOCK_TYPES.has(b.type)) return `${where}: invalid block type ${String(b.type)}`;
    if (b.block_id !== undefined) {
      if (typeof b.block_id !== 'string' || b.block_id.length === 0 || b.block_id.length > 255)
        return `${where}: bad block_id`;
      if (blockIds.has(b.block_id)) return `${where}: duplicate block_id ${b.block_id}`;
      blockIds.add(b.block_id);
    }
    switch (b.type) {
      case 'header': {
        const e = checkText(b.text, `${where}.text`, 150, ['plain_text']);
        if (e) return e;
        break;
      }
      case 'section': {
        if (b.text === undefined && b.fields === undefined) return `${where}: section needs text or fields`;
        if (b.text !== undefined) {
          const e = checkText(b.text, `${where}.text`, 3000);
          if (e) return e;
        }
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields) || b.fields.length > 10) return `${where}.fields: at most 10`;
          for (const [j, f] of b.fields.entries()) {
            const e = checkText(f, `${where}.fields[${j}]`, 2000);
            if (e) return e;
          }
        }
        break;
      }
      case 'context': {
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10)
          return `${where}.elements: 1 to 10 elements`;
        for (const [j, el] of b.elements.entries()) {
          const e = checkText(el, `${where}.elements[${j}]`, 3000);
          if (e) return e;
        }
        break;
      }
      case 'actions': {
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 25)
          return `${where}.elements: 1 to 25 elements`;
        const actionIds = new Set<string>();
        for (const [j, el] of b.elements.entries()) {
          const w = `${where}.elements[${j}]`;
          if (!isObject(el) || el.type !== 'button') return `${w}: only buttons are supported here`;
          const e = checkText(el.text, `${w}.text`, 75, ['plain_text']);
          if (e) return e;
          if (typeof el.action_id !== 'string' || el.action_id.length === 0 || el.action_id.length > 255)
            return `${w}: action_id must be 1 to 255 characters`;
          if (actionIds.has(el.action_id)) return `${w}: duplicate action_id ${el.action_id} in the block`;
          actionIds.add(el.action_id);
          if (el.value !== undefined && (typeof el.value !== 'string' || el.value.length > 2000))
            return `${w}: value must be a string of at most 2000 characters`;
          if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger')
            return `${w}: style must be primary or danger`;
        }
        break;
      }
      case 'divider':
        break;
    }
  }
  return null;
}

/** Everything a message shows, as one string (header, sections, contexts, buttons, text). */
export function blocksText(blocks: Block[]): string {
  const out: string[] = [];
  const text = (t: unknown) => {
    if (isObject(t) && typeof t.text === 'string') out.push(t.text);
  };
  for (const b of blocks) {
    text(b.text);
    if (Array.isArray(b.fields)) b.fields.forEach(text);
    if (Array.isArray(b.elements)) {
      for (const el of b.elements) text(isObject(el) && el.type === 'button' ? el.text : el);
    }
  }
  return out.join('\n');
}

// ---- request signing and interactivity payloads --------------------------------------------

/** The headers Slack would send with `body` at `timestamp` (seconds). */
export function signSlackRequest(
  secret: string,
  body: string,
  timestamp: number = Math.floor(Date.now() / 1000),
): { 'x-slack-signature': string; 'x-slack-request-timestamp': string } {
  const sig = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'x-slack-signature': `v0=${sig}`, 'x-slack-request-timestamp': String(timestamp) };
}

export interface ClickOptions {
  userId: string;
  username?: string;
  actionId: 'dormant_approve' | 'dormant_deny' | 'dormant_snooze' | string;
  itemId: string;
  channel: string;
  ts: string;
  blockId?: string;
  teamId?: string;
}

/** A `block_actions` payload as Slack sends it when a button is clicked. */
export function blockActionsPayload(o: ClickOptions) {
  const now = (Date.now() / 1000).toFixed(6);
  const username = o.username ?? o.userId.toLowerCase();
  return {
    type: 'block_actions',
    user: { id: o.userId, username, name: username, team_id: o.teamId ?? 'T0TEAM' },
    api_app_id: 'A0DORMANT',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: o.ts, channel_id: o.channel, is_ephemeral: false },
    trigger_id: `${Date.now()}.${randomBytes(4).toString('hex')}`,
    team: { id: o.teamId ?? 'T0TEAM', domain: 'example' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: o.channel, name: 'iam-reviews' },
    message: { type: 'message', ts: o.ts, text: 'dormant review', bot_id: 'B0DORMANT' },
    state: { values: {} },
    response_url: `https://hooks.slack.com/actions/T0TEAM/1/${randomBytes(8).toString('hex')}`,
    actions: [
      {
        action_id: o.actionId,
        block_id: o.blockId ?? `dormant_actions_${o.itemId}`,
        text: { type: 'plain_text', text: 'Approve', emoji: true },
        value: o.itemId,
        type: 'button',
        action_ts: now,
      },
    ],
  };
}

/** The HTTP body of that click: `payload=<urlencoded JSON>`, form-encoded. */
export function blockActionsBody(o: ClickOptions): string {
  return `payload=${encodeURIComponent(JSON.stringify(blockActionsPayload(o)))}`;
}

// ---- the fake server -----------------------------------------------------------------------

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function wsFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head =
    len < 126
      ? Buffer.from([0x80 | opcode, len])
      : len < 65536
        ? Buffer.from([0x80 | opcode, 126, len >> 8, len & 0xff])
        : (() => {
            const h = Buffer.alloc(10);
            h[0] = 0x80 | opcode;
            h[1] = 127;
            h.writeBigUInt64BE(BigInt(len), 2);
            return h;
          })();
  return Buffer.concat([head, payload]);
}

/** A minimal RFC 6455 server connection: text frames, ping/pong, close. */
class FakeSocket {
  private buffer = Buffer.alloc(0);
  closed = false;

  constructor(
    private readonly socket: Duplex,
    private readonly onText: (text: string) => void,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => (this.closed = true));
  }

  sendText(text: string): void {
    if (!this.closed) this.socket.write(wsFrame(0x1, Buffer.from(text)));
  }

  close(): void {
    if (this.closed) return;
    this.socket.write(wsFrame(0x8, Buffer.from([0x03, 0xe8])));
    this.socket.end();
    this.closed = true;
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      const b0 = this.buffer[0]!;
      const b1 = this.buffer[1]!;
      const opcode = b0 & 0x0f;
      const masked = (b1 & 0x80) !== 0;
      let len = b1 & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (this.buffer.length < 4) return;
        len = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (this.buffer.length < 10) return;
        len = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const maskLen = masked ? 4 : 0;
      if (this.buffer.length < offset + maskLen + len) return;
      const mask = this.buffer.subarray(offset, offset + maskLen);
      const payload = Buffer.from(this.buffer.subarray(offset + maskLen, offset + maskLen + len));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ mask[i % 4]!;
      this.buffer = this.buffer.subarray(offset + maskLen + len);
      if (opcode === 0x1) this.onText(payload.toString('utf8'));
      else if (opcode === 0x9) this.socket.write(wsFrame(0xa, payload));
      else if (opcode === 0x8) {
        if (!this.closed) this.socket.write(wsFrame(0x8, payload.subarray(0, 2)));
        this.socket.end();
        this.closed = true;
      }
    }
  }
}

export class SlackFake {
  readonly botToken: string;
  readonly appToken: string;
  readonly users: Map<string, string>;
  readonly calls: FakeCall[] = [];
  readonly messages = new Map<string, FakeMessage>();
  readonly ephemerals: FakeEphemeral[] = [];
  /** Envelope ids acknowledged over Socket Mode. */
  readonly acks: string[] = [];
  private readonly failures = new Map<string, string[]>();
  private readonly sockets: FakeSocket[] = [];
  private readonly ackWaiters = new Map<string, () => void>();
  private seq = 0;
  private server: LocalServer | null = null;
  private port = 0;

  constructor(options: SlackFakeOptions = {}) {
    this.botToken = options.botToken ?? `xoxb-1111-2222-${randomBytes(12).toString('hex')}`;
    this.appToken = options.appToken ?? `xapp-1-A0DORMANT-3333-${randomBytes(12).toString('hex')}`;
    this.users = new Map(Object.entries(options.users ?? {}));
  }

  /** The base URL to give WebClient's `slackApiUrl` (ends with a slash). */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('upgrade', (req, socket) => this.upgrade(req, socket));
    this.server = await listenLocal(server);
    this.port = this.server.port;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.close();
    const server = this.server;
    this.server = null;
    await server?.stop();
  }

  /** Make the next call to `method` fail with `error` (e.g. 'ratelimited', 'message_not_found'). */
  failNext(method: string, error: string): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), error]);
  }

  callsTo(method: string): FakeCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  message(channel: string, ts: string): FakeMessage | undefined {
    return this.messages.get(`${channel}/${ts}`);
  }

  /** What a message shows now (all block texts and the fallback text). */
  shows(channel: string, ts: string): string {
    const m = this.message(channel, ts);
    if (!m) throw new Error(`no message ${ts} in ${channel}`);
    return `${blocksText(m.blocks)}\n${m.text ?? ''}`;
  }

  // ---- Web API -----------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = (await readBody(req)).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = url.pathname.replace(/^\/api\//, '');
    const reply = (status: number, payload: Record<string, unknown>) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(payload));
    };
    if (req.method !== 'POST' || !url.pathname.startsWith('/api/'))
      return reply(404, { ok: false, error: 'unknown_method' });

    let body: Record<string, unknown>;
    const type = req.headers['content-type'] ?? '';
    if (type.includes('application/json')) {
      try {
        body = JSON.parse(raw || '{}') as Record<string, unknown>;
      } catch {
        return reply(200, { ok: false, error: 'invalid_json' });
      }
    } else {
      body = Object.fromEntries(new URLSearchParams(raw));
      for (const key of ['blocks', 'attachments']) {
        if (typeof body[key] === 'string') {
          try {
            body[key] = JSON.parse(body[key]);
          } catch {
            return this.finish(reply, method, body, 'invalid_blocks_format');
          }
        }
      }
    }

    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ')
      ? auth.slice('Bearer '.length)
      : typeof body.token === 'string'
        ? body.token
        : null;
    const recorded = { ...body };
    delete recorded.token;
    if (!token) return this.finish(reply, method, recorded, 'not_authed');
    const wantApp = method === 'apps.connections.open';
    if (wantApp ? token.startsWith('xoxb-') : token.startsWith('xapp-')) {
      return this.finish(reply, method, recorded, 'not_allowed_token_type');
    }
    if (token !== (wantApp ? this.appToken : this.botToken))
      return this.finish(reply, method, recorded, 'invalid_auth');

    const injected = this.failures.get(method)?.shift();
    if (injected) return this.finish(reply, method, recorded, injected);

    const result = this.dispatch(method, body);
    if ('error' in result) return this.finish(reply, method, recorded, result.error as string);
    this.calls.push({ method, body: recorded, ok: true, error: null });
    reply(200, { ok: true, ...result });
  }

  private finish(
    reply: (s: number, p: Record<string, unknown>) => void,
    method: string,
    body: Record<string, unknown>,
    error: string,
  ): void {
    this.calls.push({ method, body, ok: false, error });
    reply(200, { ok: false, error });
  }

  private nextTs(): string {
    this.seq++;
    return `${Math.floor(Date.now() / 1000)}.${String(this.seq).padStart(6, '0')}`;
  }

  private checkContent(body: Record<string, unknown>): string | null {
    const hasText = typeof body.text === 'string' && body.text.length > 0;
    if (body.blocks === undefined) return hasText ? null : 'no_text';
    if (validateBlocks(body.blocks)) return 'invalid_blocks';
    return null;
  }

  private resolveChannel(channel: unknown): string | null {
    if (typeof channel !== 'string' || channel.length === 0) return null;
    if (/^[UW][A-Z0-9]+$/.test(channel)) return `D${channel.slice(1)}`;
    return /^[CDG][A-Z0-9]+$/.test(channel) ? channel : null;
  }

  private dispatch(method: string, body: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return {
          url: 'https://example.slack.com/',
          team: 'Example',
          user: 'dormant',
          team_id: 'T0TEAM',
          user_id: 'U0BOT',
          bot_id: 'B0DORMANT',
        };
      case 'apps.connections.open':
        return { url: `ws://127.0.0.1:${this.port}/socket?ticket=${randomBytes(6).toString('hex')}` };
      case 'chat.postMessage': {
        if (body.channel === undefined) return { error: 'channel_not_found' };
        const channel = this.resolveChannel(body.channel);
        if (!channel) return { error: 'channel_not_found' };
        const bad = this.checkContent(body);
        if (bad) return { error: bad };
        const ts = this.nextTs();
        const blocks = (body.blocks as Block[] | undefined) ?? [];
        const text = typeof body.text === 'string' ? body.text : null;
        this.messages.set(`${channel}/${ts}`, { channel, ts, text, blocks, updates: 0 });
        return { channel, ts, message: { type: 'message', text, blocks, ts, bot_id: 'B0DORMANT' } };
      }
      case 'chat.update': {
        const channel = this.resolveChannel(body.channel);
        if (!channel) return { error: 'channel_not_found' };
        if (typeof body.ts !== 'string' || !body.ts) return { error: 'message_not_found' };
        const m = this.messages.get(`${channel}/${body.ts}`);
        if (!m) return { error: 'message_not_found' };
        const bad = this.checkContent(body);
        if (bad) return { error: bad };
        if (body.blocks !== undefined) m.blocks = body.blocks as Block[];
        if (typeof body.text === 'string') m.text = body.text;
        m.updates++;
        return { channel, ts: m.ts, text: m.text, message: { text: m.text, blocks: m.blocks } };
      }
      case 'chat.postEphemeral': {
        const channel = this.resolveChannel(body.channel);
        if (!channel) return { error: 'channel_not_found' };
        if (typeof body.user !== 'string' || !body.user) return { error: 'user_not_in_channel' };
        const bad = this.checkContent(body);
        if (bad) return { error: bad };
        this.ephemerals.push({ channel, user: body.user, text: typeof body.text === 'string' ? body.text : '' });
        return { message_ts: this.nextTs() };
      }
      case 'users.lookupByEmail': {
        if (typeof body.email !== 'string' || !body.email) return { error: 'invalid_arguments' };
        const id = this.users.get(body.email.toLowerCase());
        if (!id) return { error: 'users_not_found' };
        return { user: { id, name: body.email.split('@')[0], profile: { email: body.email } } };
      }
      case 'conversations.open': {
        if (typeof body.users !== 'string' || !body.users) return { error: 'users_list_not_supplied' };
        const first = body.users.split(',')[0]!;
        if (![...this.users.values()].includes(first)) return { error: 'user_not_found' };
        return { channel: { id: `D${first.slice(1)}` } };
      }
      default:
        return { error: 'unknown_method' };
    }
  }

  // ---- Socket Mode ---------------------------------------------------------------------------

  private upgrade(req: IncomingMessage, socket: Duplex): void {
    const key = req.headers['sec-websocket-key'];
    if (!req.url?.startsWith('/socket') || typeof key !== 'string') {
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const accept = createHash('sha1')
      .update(key + WS_GUID)
      .digest('base64');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    const ws = new FakeSocket(socket, (text) => {
      let msg: { envelope_id?: string };
      try {
        msg = JSON.parse(text) as { envelope_id?: string };
      } catch {
        return;
      }
      if (msg.envelope_id) {
        this.acks.push(msg.envelope_id);
        this.ackWaiters.get(msg.envelope_id)?.();
        this.ackWaiters.delete(msg.envelope_id);
      }
    });
    this.sockets.push(ws);
    ws.sendText(
      JSON.stringify({
        type: 'hello',
        num_connections: 1,
        debug_info: { host: 'fake' },
        connection_info: { app_id: 'A0DORMANT' },
      }),
    );
  }

  get openSockets(): number {
    return this.sockets.filter((s) => !s.closed).length;
  }

  /** Send an `interactive` envelope over the open socket; resolves with its id once acknowledged. */
  sendInteractive(payload: unknown, timeoutMs = 5000): Promise<string> {
    const ws = this.sockets.find((s) => !s.closed);
    if (!ws) return Promise.reject(new Error('no Socket Mode connection'));
    const envelopeId = randomBytes(8).toString('hex');
    const acked = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`envelope ${envelopeId} was not acknowledged`)), timeoutMs);
      this.ackWaiters.set(envelopeId, () => {
        clearTimeout(timer);
        resolve(envelopeId);
      });
    });
    ws.sendText(
      JSON.stringify({ envelope_id: envelopeId, type: 'interactive', payload, accepts_response_payload: false }),
    );
    return acked;
  }
}

export async function startSlackFake(options: SlackFakeOptions = {}): Promise<SlackFake> {
  return new SlackFake(options).start();
}
