// Plumbing shared by the local HTTP fakes and proxies of the tests (faultProxy, the CloudTrail,
// Access Advisor, Slack and Jira fakes, the scan tests' local proxy, the serve tests' router):
// listening on a free local port and stopping, reading a request body, forwarding a request
// upstream and relaying the answer, and the AWS query protocol's parameters and XML replies.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

// ------------------------------------------------------------------ listening

export interface LocalServer {
  port: number;
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Closes the server and every connection still open; safe to call more than once. */
  stop(): Promise<void>;
}

/** Listens on 127.0.0.1 on a free port. */
export async function listenLocal(server: http.Server): Promise<LocalServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    stop(): Promise<void> {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}

/**
 * Serves `handle` on a free local port. `at` is the request's arrival time (performance.now(),
 * taken before anything else); a handler that fails drops the connection.
 */
export function serveLocal(
  handle: (req: http.IncomingMessage, res: http.ServerResponse, at: number) => Promise<void>,
): Promise<LocalServer> {
  return listenLocal(
    http.createServer((req, res) => {
      const at = performance.now();
      handle(req, res, at).catch(() => res.destroy());
    }),
  );
}

/** A TCP port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ------------------------------------------------------------------ requests and forwarding

export function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** An upstream answer, read whole. */
export interface Upstream {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Sends one request to `target` and reads the answer whole. Content-Length is set to `body`'s,
 * and Host to the target's unless `keepHost` (a signed request must keep the Host it was signed for).
 */
export function forwardRequest(
  target: URL,
  method: string,
  path: string,
  headers: http.OutgoingHttpHeaders,
  body: Buffer,
  options: { keepHost?: boolean } = {},
): Promise<Upstream> {
  const out: http.OutgoingHttpHeaders = { ...headers, 'content-length': String(body.length) };
  if (!options.keepHost) out.host = target.host;
  delete out['transfer-encoding'];
  return new Promise((resolve, reject) => {
    const up = http.request(
      { protocol: target.protocol, hostname: target.hostname, port: target.port, method, path, headers: out },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    up.on('error', reject);
    up.end(body);
  });
}

/** Answers with an upstream answer (or another body in its place), without its hop-by-hop headers. */
export function relay(res: http.ServerResponse, up: Upstream, body: Buffer = up.body): void {
  const headers: http.OutgoingHttpHeaders = { ...up.headers };
  delete headers['transfer-encoding'];
  delete headers['connection'];
  delete headers['keep-alive'];
  headers['content-length'] = String(body.length);
  res.writeHead(up.status, headers);
  res.end(body);
}

// ------------------------------------------------------------------ the AWS query protocol (IAM)

export const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';

export function xmlEscape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** The parameters of a query-protocol request: the URL's query, then a form body. */
export function queryParams(req: http.IncomingMessage, body: Buffer): URLSearchParams {
  const params = new URLSearchParams(new URL(req.url ?? '/', 'http://fake').search);
  const type = String(req.headers['content-type'] ?? '');
  if (body.length > 0 && (type === '' || type.includes('x-www-form-urlencoded'))) {
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v);
  }
  return params;
}

/** An IAM error document, as AWS sends it. */
export function errorXml(code: string, message: string, status: number, requestId: string): string {
  const type = status >= 500 ? 'Receiver' : 'Sender';
  return (
    `<ErrorResponse xmlns="${IAM_NS}"><Error><Type>${type}</Type>` +
    `<Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

export function sendXml(res: http.ServerResponse, status: number, xml: string, requestId: string): void {
  res.writeHead(status, {
    'content-type': 'text/xml',
    'content-length': Buffer.byteLength(xml),
    'x-amzn-requestid': requestId,
  });
  res.end(xml);
}
