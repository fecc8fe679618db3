// A local HTTP fake of the Jira Cloud REST API v3: exactly the endpoints dormant's Jira
// tickets call through jira.js 5 (create issue, add comment, get/do transitions, the enhanced
// JQL search GET /rest/api/3/search/jql). It checks requests the way Jira does — Basic auth
// against the configured email and API token (401 otherwise), JSON content type, required
// fields, ADF bodies — and answers errors in Jira's shape `{ errorMessages: [], errors: {} }`.
// Issues, comments, statuses and every request are kept for the tests to read.
import http from 'node:http';
import { listenLocal } from './http.js';

export interface FakeTransition {
  id: string;
  name: string;
  /** The status the issue is in after this transition. */
  to: string;
}

export interface FakeComment {
  id: string;
  body: AdfDocument;
  created: string;
}

export interface AdfDocument {
  type: 'doc';
  version: 1;
  content: unknown[];
}

export interface FakeIssue {
  id: string;
  key: string;
  project: string;
  issueType: string;
  summary: string;
  description: AdfDocument | null;
  labels: string[];
  status: string;
  comments: FakeComment[];
  /** Names of the transitions performed, in order. */
  transitions: string[];
  created: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  /** The status answered. */
  status: number;
}

export interface JiraFakeOptions {
  email?: string;
  apiToken?: string;
  /** Project keys and the issue types each offers. */
  projects?: Record<string, string[]>;
  /** Transitions offered from any status other than their target. */
  transitions?: FakeTransition[];
  initialStatus?: string;
}

export interface JiraFake {
  url: string;
  email: string;
  apiToken: string;
  issues: Map<string, FakeIssue>;
  requests: RecordedRequest[];
  transitions: FakeTransition[];
  /** Answer every authenticated request with 403 (no permission). */
  forbidden: boolean;
  issue(key: string): FakeIssue;
  /** Requests to `method path`, path matched as a regular expression. */
  requestsTo(method: string, path: RegExp): RecordedRequest[];
  stop(): Promise<void>;
}

export const DEFAULT_TRANSITIONS: FakeTransition[] = [
  { id: '21', name: 'In Review', to: 'In Review' },
  { id: '31', name: 'Done', to: 'Done' },
  { id: '41', name: "Won't Do", to: "Won't Do" },
];

// ------------------------------------------------------------------ ADF validation

const BLOCK = ['paragraph', 'heading', 'bulletList', 'orderedList', 'table', 'codeBlock', 'rule'];
const INLINE = ['text', 'hardBreak'];
const CELL = ['paragraph', 'heading', 'bulletList', 'orderedList', 'codeBlock', 'rule'];

/** Allowed children per node type; `null`: a leaf that must have no content. */
const CHILDREN: Record<string, string[] | null> = {
  doc: BLOCK,
  paragraph: INLINE,
  heading: INLINE,
  bulletList: ['listItem'],
  orderedList: ['listItem'],
  listItem: ['paragraph', 'bulletList', 'orderedList', 'codeBlock'],
  table: ['tableRow'],
  tableRow: ['tableHeader', 'tableCell'],
  tableHeader: CELL,
  tableCell: CELL,
  codeBlock: ['text'],
  rule: null,
  hardBreak: null,
  text: null,
};

/** Nodes whose content must hold at least one node. */
const NON_EMPTY = new Set(['bulletList', 'orderedList', 'listItem', 'table', 'tableRow', 'tableHeader', 'tableCell']);
const MARKS = new Set(['strong', 'em', 'code', 'link']);
const NODE_KEYS = new Set(['type', 'content', 'attrs', 'marks', 'text']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function validateMarks(node: Record<string, unknown>, path: string, parent: string): string | null {
  if (node.marks === undefined) return null;
  if (!Array.isArray(node.marks)) return `${path}.marks: must be an array`;
  if (node.type !== 'text') return `${path}.marks: only text nodes take marks here`;
  const types: string[] = [];
  for (const [i, mark] of node.marks.entries()) {
    const at = `${path}.marks[${i}]`;
    if (!isObject(mark) || typeof mark.type !== 'string') return `${at}: a mark needs a type`;
    if (!MARKS.has(mark.type)) return `${at}: unknown mark '${mark.type}'`;
    if (mark.type === 'link') {
      if (!isObject(mark.attrs) || typeof mark.attrs.href !== 'string' || mark.attrs.href === '') {
        return `${at}: link needs attrs.href`;
      }
    }
    if (types.includes(mark.type)) return `${at}: mark '${mark.type}' repeated`;
    types.push(mark.type);
  }
  if (types.includes('code') && types.some((t) => t !== 'code' && t !== 'link')) {
    return `${path}.marks: code combines only with link`;
  }
  if (parent === 'codeBlock' && types.length > 0) return `${path}.marks: text in a codeBlock takes no marks`;
  return null;
}

function validateNode(node: unknown, path: string, parent: string): string | null {
  if (!isObject(node)) return `${path}: a node must be an object`;
  if (typeof node.type !== 'string') return `${path}: a node needs a type`;
  const type = node.type;
  if (!(type in CHILDREN)) return `${path}: unknown node type '${type}'`;
  const allowedHere = parent === '' ? null : CHILDREN[parent];
  if (allowedHere && !allowedHere.includes(type)) return `${path}: '${type}' is not allowed in '${parent}'`;
  for (const key of Object.keys(node)) {
    if (!NODE_KEYS.has(key)) return `${path}: unknown property '${key}'`;
  }
  if (type === 'text') {
    if (typeof node.text !== 'string' || node.text.length === 0) return `${path}: a text node needs non-empty text`;
  } else if (node.text !== undefined) {
    return `${path}: only text nodes have text`;
  }
  const markError = validateMarks(node, path, parent);
  if (markError) return markError;
  if (node.attrs !== undefined && !isObject(node.attrs)) return `${path}.attrs: must be an object`;
  if (type === 'heading') {
    const level = isObject(node.attrs) ? node.attrs.level : undefined;
    if (typeof level !== 'number' || !Number.isInteger(level) || level < 1 || level > 6) {
      return `${path}.attrs.level: a heading needs a level from 1 to 6`;
    }
  }
  if (type === 'orderedList' && isObject(node.attrs) && node.attrs.order !== undefined) {
    const order = node.attrs.order;
    if (typeof order !== 'number' || order < 0) return `${path}.attrs.order: must be a number ≥ 0`;
  }
  const children = CHILDREN[type];
  if (children === null) {
    if (node.content !== undefined) return `${path}: '${type}' takes no content`;
    return null;
  }
  if (node.content === undefined) {
    return NON_EMPTY.has(type) ? `${path}: '${type}' needs content` : null;
  }
  if (!Array.isArray(node.content)) return `${path}.content: must be an array`;
  if (NON_EMPTY.has(type) && node.content.length === 0) return `${path}: '${type}' needs at least one node`;
  if (type === 'listItem') {
    const first = node.content[0];
    if (isObject(first) && (first.type === 'bulletList' || first.type === 'orderedList')) {
      return `${path}.content[0]: a listItem starts with a paragraph`;
    }
  }
  for (const [i, child] of node.content.entries()) {
    const err = validateNode(child, `${path}.content[${i}]`, type);
    if (err) return err;
  }
  return null;
}

/** Null when `doc` is a valid ADF document (the subset dormant uses), else what is wrong. */
export function validateAdf(doc: unknown, path = 'body'): string | null {
  if (!isObject(doc)) return `${path}: must be an Atlassian Document (an object), not ${typeof doc}`;
  if (doc.type !== 'doc') return `${path}.type: must be 'doc'`;
  if (doc.version !== 1) return `${path}.version: must be 1`;
  if (!Array.isArray(doc.content)) return `${path}.content: must be an array`;
  for (const key of Object.keys(doc)) {
    if (!['type', 'version', 'content'].includes(key)) return `${path}: unknown property '${key}'`;
  }
  for (const [i, child] of doc.content.entries()) {
    const err = validateNode(child, `${path}.content[${i}]`, 'doc');
    if (err) return err;
  }
  return null;
}

/** The text of a document as read: inline text run together, blocks separated by a space. */
export function adfText(node: unknown): string {
  const out: string[] = [];
  const walk = (n: unknown) => {
    if (!isObject(n)) return;
    if (typeof n.text === 'string') out.push(n.text);
    else if (n.type === 'hardBreak') out.push(' ');
    if (Array.isArray(n.content)) {
      const block = n.type !== 'text' && n.type !== 'hardBreak';
      if (block) out.push(' ');
      n.content.forEach(walk);
      if (block) out.push(' ');
    }
  };
  walk(node);
  return out.join('').replace(/\s+/g, ' ').trim();
}

/** Every node type in a document (for shape assertions). */
export function adfTypes(node: unknown): string[] {
  const out: string[] = [];
  const walk = (n: unknown) => {
    if (!isObject(n)) return;
    if (typeof n.type === 'string') out.push(n.type);
    if (Array.isArray(n.content)) n.content.forEach(walk);
  };
  walk(node);
  return out;
}

// ------------------------------------------------------------------ JQL (the subset used)

interface JqlClause {
  field: string;
  op: '=' | '!=' | 'in';
  values: string[];
}

interface JqlQuery {
  clauses: JqlClause[];
  orderBy: { field: string; desc: boolean } | null;
}

const JQL_FIELDS = new Set(['project', 'labels', 'key', 'status', 'issuetype', 'summary']);

function tokenizeJql(jql: string): string[] {
  const tokens: string[] = [];
  const re = /\s*("((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|!=|=|\(|\)|,|[^\s=!(),"']+)/gy;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(jql)) !== null) {
    last = re.lastIndex;
    if (m[2] !== undefined) tokens.push(`"${m[2].replace(/\\(.)/g, '$1')}`);
    else if (m[3] !== undefined) tokens.push(`"${m[3].replace(/\\(.)/g, '$1')}`);
    else tokens.push(m[1]!);
  }
  if (jql.slice(last).trim() !== '') throw new Error(`Error in the JQL Query: unexpected '${jql.slice(last).trim()}'.`);
  return tokens;
}

/** `field = value [AND …] [ORDER BY field [ASC|DESC]]`, with `!=` and `in (…)`. */
export function parseJql(jql: string): JqlQuery {
  const tokens = tokenizeJql(jql);
  let i = 0;
  const value = (): string => {
    const t = tokens[i++];
    if (t === undefined) throw new Error('Error in the JQL Query: Expecting a value but got the end of the query.');
    return t.startsWith('"') ? t.slice(1) : t;
  };
  const clauses: JqlClause[] = [];
  let orderBy: JqlQuery['orderBy'] = null;
  while (i < tokens.length) {
    const t = tokens[i]!;
    if (t.toLowerCase() === 'order') {
      if (tokens[i + 1]?.toLowerCase() !== 'by')
        throw new Error("Error in the JQL Query: Expecting 'by' after 'order'.");
      i += 2;
      const field = value().toLowerCase();
      const dir = tokens[i]?.toLowerCase();
      if (dir === 'asc' || dir === 'desc') i++;
      orderBy = { field, desc: dir === 'desc' };
      if (i < tokens.length) throw new Error(`Error in the JQL Query: unexpected '${tokens[i]}' after ORDER BY.`);
      break;
    }
    if (clauses.length > 0) {
      if (t.toLowerCase() !== 'and') throw new Error(`Error in the JQL Query: Expecting 'AND' but got '${t}'.`);
      i++;
    }
    const field = value().toLowerCase();
    if (!JQL_FIELDS.has(field)) {
      throw new Error(`Field '${field}' does not exist or you do not have permission to view it.`);
    }
    const op = tokens[i++]?.toLowerCase();
    if (op === '=' || op === '!=') clauses.push({ field, op, values: [value()] });
    else if (op === 'in') {
      if (tokens[i++] !== '(') throw new Error("Error in the JQL Query: Expecting '(' after 'in'.");
      const values: string[] = [];
      while (tokens[i] !== ')') {
        values.push(value());
        if (tokens[i] === ',') i++;
        else if (tokens[i] !== ')') throw new Error("Error in the JQL Query: Expecting ',' or ')'.");
      }
      i++;
      clauses.push({ field, op: 'in', values });
    } else throw new Error(`Error in the JQL Query: unsupported operator '${op ?? ''}'.`);
  }
  return { clauses, orderBy };
}

function issueValues(issue: FakeIssue, field: string): string[] {
  switch (field) {
    case 'project':
      return [issue.project];
    case 'labels':
      return issue.labels;
    case 'key':
      return [issue.key];
    case 'status':
      return [issue.status];
    case 'issuetype':
      return [issue.issueType];
    default:
      return [issue.summary];
  }
}

function matches(issue: FakeIssue, c: JqlClause): boolean {
  const have = issueValues(issue, c.field).map((v) => v.toLowerCase());
  const hit = c.values.some((v) => have.includes(v.toLowerCase()));
  return c.op === '!=' ? !hit : hit;
}

// ------------------------------------------------------------------ the server

class JiraHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorMessages: string[],
    readonly errors: Record<string, string> = {},
  ) {
    super(errorMessages.join('; ') || Object.values(errors).join('; '));
  }
}

const CREATE_FIELDS = new Set(['project', 'issuetype', 'summary', 'description', 'labels', 'priority', 'assignee']);
const MAX_TEXT_FIELD = 32_767;

export async function startJiraFake(options: JiraFakeOptions = {}): Promise<JiraFake> {
  const email = options.email ?? 'reviewer@example.com';
  const apiToken = options.apiToken ?? 'jira-test-token-9f8e7d';
  const projects = options.projects ?? { SEC: ['Task', 'Bug'] };
  const initialStatus = options.initialStatus ?? 'To Do';
  const issues = new Map<string, FakeIssue>();
  const requests: RecordedRequest[] = [];
  const counters = new Map<string, number>();
  let nextId = 10_000;
  let nextCommentId = 20_000;
  let url = '';

  const expectedAuth = `Basic ${Buffer.from(`${email}:${apiToken}`).toString('base64')}`;

  const fake: JiraFake = {
    url: '',
    email,
    apiToken,
    issues,
    requests,
    transitions: options.transitions ?? DEFAULT_TRANSITIONS.map((t) => ({ ...t })),
    forbidden: false,
    issue(key) {
      const found = issues.get(key);
      if (!found) throw new Error(`no issue ${key} in the Jira fake (have ${[...issues.keys()].join(', ') || 'none'})`);
      return found;
    },
    requestsTo(method, path) {
      return requests.filter((r) => r.method === method && path.test(r.path));
    },
    stop: async () => undefined,
  };

  const getIssue = (key: string): FakeIssue => {
    const found = issues.get(key) ?? [...issues.values()].find((i) => i.id === key);
    if (!found) throw new JiraHttpError(404, ['Issue does not exist or you do not have permission to see it.']);
    return found;
  };

  const available = (issue: FakeIssue) => fake.transitions.filter((t) => t.to !== issue.status);

  function createIssue(body: unknown): { status: number; body: unknown } {
    if (!isObject(body) || !isObject(body.fields)) {
      throw new JiraHttpError(400, ["Field 'fields' is required and must be an object."]);
    }
    const f = body.fields;
    const errors: Record<string, string> = {};
    for (const key of Object.keys(f)) {
      if (!CREATE_FIELDS.has(key)) {
        errors[key] = `Field '${key}' cannot be set. It is not on the appropriate screen, or unknown.`;
      }
    }
    const projectKey = isObject(f.project) && typeof f.project.key === 'string' ? f.project.key : null;
    const types = projectKey !== null ? projects[projectKey] : undefined;
    if (!types) errors.project = 'valid project is required';
    const typeName = isObject(f.issuetype) && typeof f.issuetype.name === 'string' ? f.issuetype.name : null;
    if (typeName === null) errors.issuetype = 'Specify an issue type';
    else if (types && !types.includes(typeName)) errors.issuetype = 'Specify a valid issue type';
    if (typeof f.summary !== 'string' || f.summary.trim() === '')
      errors.summary = 'You must specify a summary of the issue.';
    else if (f.summary.length > 255) errors.summary = 'Summary must be less than 255 characters.';
    else if (/[\r\n]/.test(f.summary))
      errors.summary = 'The summary is invalid because it contains newline characters.';
    if (f.description !== undefined && f.description !== null) {
      const err = validateAdf(f.description, 'description');
      if (err)
        errors.description = `Operation value must be an Atlassian Document (see the Atlassian Document Format): ${err}`;
      else if (JSON.stringify(f.description).length > MAX_TEXT_FIELD) {
        errors.description = `The entered text is too long. It exceeds the allowed limit of ${MAX_TEXT_FIELD} characters.`;
      }
    }
    let labels: string[] = [];
    if (f.labels !== undefined) {
      if (!Array.isArray(f.labels) || !f.labels.every((l): l is string => typeof l === 'string')) {
        errors.labels = 'labels must be an array of strings';
      } else {
        const bad = f.labels.find((l) => l === '' || /\s/.test(l) || l.length > 255);
        if (bad !== undefined) errors.labels = `The label '${bad}' contains spaces which is invalid.`;
        labels = [...new Set(f.labels)];
      }
    }
    if (Object.keys(errors).length > 0) throw new JiraHttpError(400, [], errors);
    const n = (counters.get(projectKey!) ?? 0) + 1;
    counters.set(projectKey!, n);
    const issue: FakeIssue = {
      id: String(nextId++),
      key: `${projectKey}-${n}`,
      project: projectKey!,
      issueType: typeName!,
      summary: f.summary as string,
      description: (f.description as AdfDocument | undefined) ?? null,
      labels,
      status: initialStatus,
      comments: [],
      transitions: [],
      created: new Date().toISOString(),
    };
    issues.set(issue.key, issue);
    return { status: 201, body: { id: issue.id, key: issue.key, self: `${url}/rest/api/3/issue/${issue.id}` } };
  }

  function addComment(key: string, body: unknown): { status: number; body: unknown } {
    const issue = getIssue(key);
    if (!isObject(body) || body.body === undefined)
      throw new JiraHttpError(400, [], { comment: 'Comment body can not be empty!' });
    const err = validateAdf(body.body, 'body');
    if (err) throw new JiraHttpError(400, [], { comment: `Comment body is not a valid Atlassian Document: ${err}` });
    const comment: FakeComment = {
      id: String(nextCommentId++),
      body: body.body as AdfDocument,
      created: new Date().toISOString(),
    };
    issue.comments.push(comment);
    return {
      status: 201,
      body: {
        id: comment.id,
        self: `${url}/rest/api/3/issue/${issue.id}/comment/${comment.id}`,
        author: { emailAddress: email, displayName: 'dormant' },
        body: comment.body,
        created: comment.created,
        updated: comment.created,
      },
    };
  }

  function getTransitions(key: string): { status: number; body: unknown } {
    const issue = getIssue(key);
    return {
      status: 200,
      body: {
        expand: 'transitions',
        transitions: available(issue).map((t) => ({
          id: t.id,
          name: t.name,
          to: { self: `${url}/rest/api/3/status/${t.id}`, name: t.to, id: `1${t.id}` },
          hasScreen: false,
          isGlobal: true,
          isInitial: false,
          isAvailable: true,
          isConditional: false,
          isLooped: false,
        })),
      },
    };
  }

  function doTransition(key: string, body: unknown): { status: number; body: unknown } {
    const issue = getIssue(key);
    const id = isObject(body) && isObject(body.transition) ? body.transition.id : undefined;
    if (typeof id !== 'string' && typeof id !== 'number') {
      throw new JiraHttpError(400, ['Missing transition id.']);
    }
    const t = available(issue).find((x) => x.id === String(id));
    if (!t) throw new JiraHttpError(400, [`Transition id '${String(id)}' is not valid for this issue.`]);
    issue.status = t.to;
    issue.transitions.push(t.name);
    return { status: 204, body: null };
  }

  function search(query: Record<string, string>): { status: number; body: unknown } {
    const jql = query.jql ?? '';
    let parsed: JqlQuery;
    try {
      parsed = parseJql(jql);
    } catch (err) {
      throw new JiraHttpError(400, [(err as Error).message]);
    }
    if (parsed.clauses.length === 0) {
      throw new JiraHttpError(400, [
        'Unbounded JQL queries are not allowed here. Please add a search restriction to your query.',
      ]);
    }
    let found = [...issues.values()].filter((i) => parsed.clauses.every((c) => matches(i, c)));
    if (parsed.orderBy) {
      const { field, desc } = parsed.orderBy;
      const keyOf = (i: FakeIssue) =>
        field === 'created' ? i.created + i.id.padStart(12, '0') : (issueValues(i, field)[0] ?? '');
      found.sort((a, b) => keyOf(a).localeCompare(keyOf(b)) * (desc ? -1 : 1));
    }
    const start = query.nextPageToken ? Number(query.nextPageToken) : 0;
    const max = Math.min(Number(query.maxResults ?? 50) || 50, 5000);
    const page = found.slice(start, start + max);
    const isLast = start + max >= found.length;
    found = page;
    const wanted = (query.fields ?? 'id').split(',').filter(Boolean);
    return {
      status: 200,
      body: {
        issues: found.map((i) => ({
          id: i.id,
          key: i.key,
          self: `${url}/rest/api/3/issue/${i.id}`,
          fields: Object.fromEntries(
            wanted
              .filter((w) => w !== 'id')
              .map((w) => [
                w,
                w === 'labels' ? i.labels : w === 'summary' ? i.summary : w === 'status' ? { name: i.status } : null,
              ]),
          ),
        })),
        isLast,
        ...(isLast ? {} : { nextPageToken: String(start + max) }),
      },
    };
  }

  function route(method: string, path: string, query: Record<string, string>, body: unknown) {
    let m: RegExpMatchArray | null;
    if (method === 'POST' && path === '/rest/api/3/issue') return createIssue(body);
    if ((m = path.match(/^\/rest\/api\/3\/issue\/([^/]+)\/comment$/)) && method === 'POST') {
      return addComment(decodeURIComponent(m[1]!), body);
    }
    if ((m = path.match(/^\/rest\/api\/3\/issue\/([^/]+)\/transitions$/))) {
      if (method === 'GET') return getTransitions(decodeURIComponent(m[1]!));
      if (method === 'POST') return doTransition(decodeURIComponent(m[1]!), body);
    }
    if (method === 'GET' && path === '/rest/api/3/search/jql') return search(query);
    throw new JiraHttpError(404, [`No API at ${method} ${path} in the Jira fake.`]);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const u = new URL(req.url ?? '/', 'http://jira.fake');
      const method = req.method ?? 'GET';
      const record: RecordedRequest = {
        method,
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        headers: req.headers,
        body: raw,
        status: 0,
      };
      requests.push(record);
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        record.status = status;
        if (payload === null) {
          res.writeHead(status, headers);
          res.end();
          return;
        }
        const text = JSON.stringify(payload);
        res.writeHead(status, {
          'content-type': 'application/json;charset=UTF-8',
          'content-length': Buffer.byteLength(text),
          ...headers,
        });
        res.end(text);
      };
      try {
        if (req.headers.authorization !== expectedAuth) {
          send(
            401,
            { errorMessages: ['Client must be authenticated to access this resource.'], errors: {} },
            {
              'www-authenticate': 'Basic realm="protected-area"',
            },
          );
          return;
        }
        if (fake.forbidden) {
          send(403, { errorMessages: ['You do not have permission to perform this operation.'], errors: {} });
          return;
        }
        let body: unknown = undefined;
        if (method === 'POST' || method === 'PUT') {
          const type = req.headers['content-type'] ?? '';
          if (!/^application\/json\b/i.test(type)) {
            send(415, { errorMessages: [`Unsupported Media Type: '${type}'; send application/json.`], errors: {} });
            return;
          }
          try {
            body = raw === '' ? undefined : JSON.parse(raw);
          } catch {
            send(400, { errorMessages: ['Unexpected character in the request body: not valid JSON.'], errors: {} });
            return;
          }
          record.body = body;
        }
        const out = route(method, u.pathname, record.query, body);
        send(out.status, out.body);
      } catch (err) {
        if (err instanceof JiraHttpError) send(err.status, { errorMessages: err.errorMessages, errors: err.errors });
        else send(500, { errorMessages: [String(err)], errors: {} });
      }
    });
  });
  const local = await listenLocal(server);
  url = local.url;
  fake.url = url;
  fake.stop = local.stop;
  return fake;
}
