// Test harness: IAM Access Advisor in front of moto, which has neither
// GenerateServiceLastAccessedDetails nor GetServiceLastAccessedDetails. Answers those two
// awsQuery actions with AWS's XML (a job that is IN_PROGRESS for a few polls, then
// COMPLETED with the seeded services, paged with Marker; or FAILED; or AccessDenied) and
// forwards every other request to moto untouched. Like AWS, every request's SigV4
// signature is checked first (scope iam/us-east-1), the parameters are validated, and a
// user or role ARN must name a user or role that exists (asked of moto).
import { randomBytes, randomUUID } from 'node:crypto';
import type http from 'node:http';
import { verifySigV4 } from './cloudtrailFake.js';
import {
  IAM_NS,
  errorXml,
  forwardRequest,
  queryParams,
  readBody,
  relay,
  sendXml,
  serveLocal,
  xmlEscape,
} from './http.js';

export interface SeedServiceAccess {
  namespace: string;
  /** Default: "AWS <namespace>". */
  name?: string;
  /** Omitted or null: never reached in the tracking period. */
  lastAccessedAt?: string | Date | null;
  region?: string | null;
}

export type AccessAdvisorAction = 'GenerateServiceLastAccessedDetails' | 'GetServiceLastAccessedDetails';

export interface AccessAdvisorFakeOptions {
  /** Access key id → secret. Default: { testing: 'testing' }. */
  credentials?: Record<string, string>;
  /** Services per user or role name. One without an entry has none. */
  services?: Record<string, SeedServiceAccess[]>;
  /** GetServiceLastAccessedDetails answers IN_PROGRESS this many times per job. Default 2. Infinity: never ready. */
  pollsBeforeReady?: number;
  /** Jobs end FAILED with this error instead of COMPLETED. */
  failJobs?: { code: string; message: string };
  /** These actions answer 403 AccessDenied. */
  deny?: AccessAdvisorAction[];
  /** Services per page at most (AWS: MaxItems, default 100). */
  pageSize?: number;
}

export interface AccessAdvisorRequest {
  /** performance.now() at arrival. */
  at: number;
  action: string;
  params: URLSearchParams;
  status: number;
  /** Error code answered, or null. */
  error: string | null;
  /** Forwarded to moto. */
  forwarded: boolean;
}

export interface AccessAdvisorFake {
  url: string;
  requests: AccessAdvisorRequest[];
  /** Requests for one of the two Access Advisor actions. */
  advisorRequests(): AccessAdvisorRequest[];
  stop(): Promise<void>;
}

const ARN_RE = /^arn:aws[a-z-]*:iam::(\d{12}):(user|role|group|policy)(\/[\x21-\x7e]*)?\/([\w+=,.@-]{1,128})$/;

interface Job {
  id: string;
  arn: string;
  userName: string | null;
  createdAt: Date;
  polls: number;
  completedAt: Date | null;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function serviceXml(s: SeedServiceAccess, arn: string): string {
  const at = s.lastAccessedAt ? new Date(s.lastAccessedAt) : null;
  let xml = `<member><ServiceName>${xmlEscape(s.name ?? `AWS ${s.namespace}`)}</ServiceName>`;
  xml += `<ServiceNamespace>${xmlEscape(s.namespace)}</ServiceNamespace>`;
  if (at) {
    xml += `<LastAuthenticated>${at.toISOString()}</LastAuthenticated>`;
    xml += `<LastAuthenticatedEntity>${xmlEscape(arn)}</LastAuthenticatedEntity>`;
    if (s.region) xml += `<LastAuthenticatedRegion>${xmlEscape(s.region)}</LastAuthenticatedRegion>`;
  }
  xml += `<TotalAuthenticatedEntities>${at ? 1 : 0}</TotalAuthenticatedEntities></member>`;
  return xml;
}

/** Starts on 127.0.0.1 (free port) in front of `motoEndpoint`. */
export async function startAccessAdvisorFake(
  motoEndpoint: string,
  options: AccessAdvisorFakeOptions = {},
): Promise<AccessAdvisorFake> {
  const target = new URL(motoEndpoint);
  const credentials = options.credentials ?? { testing: 'testing' };
  const pollsBeforeReady = options.pollsBeforeReady ?? 2;
  const pageSize = options.pageSize ?? 100;
  const deny = new Set(options.deny ?? []);
  const jobs = new Map<string, Job>();
  const markers = new Map<string, { jobId: string; offset: number }>();
  const requests: AccessAdvisorRequest[] = [];

  const success = (action: string, result: string, requestId: string): string =>
    `<${action}Response xmlns="${IAM_NS}"><${action}Result>${result}</${action}Result>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;

  /** Asks moto whether the user or role exists (moto does not check signatures; its account comes from the key). */
  const userExists = async (req: http.IncomingMessage, userName: string, kind = 'user'): Promise<boolean> => {
    const query: Record<string, string> =
      kind === 'role'
        ? { Action: 'GetRole', Version: '2010-05-08', RoleName: userName }
        : { Action: 'GetUser', Version: '2010-05-08', UserName: userName };
    const body = Buffer.from(new URLSearchParams(query).toString());
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      authorization: req.headers.authorization ?? '',
      'x-amz-date': req.headers['x-amz-date'] ?? '',
    };
    const up = await forwardRequest(target, 'POST', '/', headers, body);
    if (up.status === 200) return true;
    if (up.status === 404 || up.body.toString('utf8').includes('NoSuchEntity')) return false;
    throw new Error(`moto GetUser answered HTTP ${up.status}: ${up.body.toString('utf8').slice(0, 800)}`);
  };

  const generate = async (req: http.IncomingMessage, params: URLSearchParams, requestId: string): Promise<string> => {
    const arn = params.get('Arn');
    if (arn === null) {
      throw new Refusal(
        400,
        'ValidationError',
        "1 validation error detected: Value null at 'arn' failed to satisfy constraint: Member must not be null",
      );
    }
    const m = ARN_RE.exec(arn);
    if (arn.length < 20 || arn.length > 2048 || !m) throw new Refusal(400, 'InvalidInput', `ARN ${arn} is not valid.`);
    const granularity = params.get('Granularity');
    if (granularity !== null && granularity !== 'SERVICE_LEVEL' && granularity !== 'ACTION_LEVEL') {
      throw new Refusal(400, 'ValidationError', `Invalid Granularity: ${granularity}`);
    }
    let userName: string | null = null;
    if (m[2] === 'user' || m[2] === 'role') {
      userName = m[4] ?? '';
      if (!(await userExists(req, userName, m[2]))) {
        throw new Refusal(404, 'NoSuchEntity', `The ${m[2]} with name ${userName} cannot be found.`);
      }
    }
    const job: Job = { id: randomUUID(), arn, userName, createdAt: new Date(), polls: 0, completedAt: null };
    jobs.set(job.id, job);
    return success('GenerateServiceLastAccessedDetails', `<JobId>${job.id}</JobId>`, requestId);
  };

  const get = (params: URLSearchParams, requestId: string): string => {
    const jobId = params.get('JobId');
    if (jobId === null) {
      throw new Refusal(
        400,
        'ValidationError',
        "1 validation error detected: Value null at 'jobId' failed to satisfy constraint: Member must not be null",
      );
    }
    if (jobId.length !== 36) throw new Refusal(400, 'InvalidInput', `Invalid JobId: ${jobId}`);
    const job = jobs.get(jobId);
    if (!job) throw new Refusal(404, 'NoSuchEntity', `No such job: ${jobId}`);
    const maxRaw = params.get('MaxItems');
    const maxItems = maxRaw === null ? 100 : Number(maxRaw);
    if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 1000) {
      throw new Refusal(400, 'ValidationError', `Invalid MaxItems: ${maxRaw}`);
    }
    const marker = params.get('Marker');
    let offset = 0;
    if (marker !== null) {
      const state = markers.get(marker);
      if (!state || state.jobId !== jobId) throw new Refusal(400, 'InvalidInput', 'Invalid Marker');
      offset = state.offset;
    }

    let result = '<JobType>SERVICE_LEVEL</JobType>';
    result += `<JobCreationDate>${job.createdAt.toISOString()}</JobCreationDate>`;
    if (job.completedAt === null) {
      job.polls++;
      if (job.polls <= pollsBeforeReady) {
        result += '<JobStatus>IN_PROGRESS</JobStatus><ServicesLastAccessed/><IsTruncated>false</IsTruncated>';
        return success('GetServiceLastAccessedDetails', result, requestId);
      }
      job.completedAt = new Date();
    }
    result += `<JobCompletionDate>${job.completedAt.toISOString()}</JobCompletionDate>`;
    if (options.failJobs) {
      result += '<JobStatus>FAILED</JobStatus><ServicesLastAccessed/><IsTruncated>false</IsTruncated>';
      result += `<Error><Message>${xmlEscape(options.failJobs.message)}</Message><Code>${xmlEscape(options.failJobs.code)}</Code></Error>`;
      return success('GetServiceLastAccessedDetails', result, requestId);
    }
    const services = job.userName === null ? [] : (options.services?.[job.userName] ?? []);
    const page = services.slice(offset, offset + Math.min(maxItems, pageSize));
    const next = offset + page.length;
    result += '<JobStatus>COMPLETED</JobStatus>';
    result += `<ServicesLastAccessed>${page.map((s) => serviceXml(s, job.arn)).join('')}</ServicesLastAccessed>`;
    if (next < services.length) {
      const token = randomBytes(18).toString('base64url');
      markers.set(token, { jobId, offset: next });
      result += `<IsTruncated>true</IsTruncated><Marker>${token}</Marker>`;
    } else {
      result += '<IsTruncated>false</IsTruncated>';
    }
    return success('GetServiceLastAccessedDetails', result, requestId);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, at: number): Promise<void> => {
    const body = await readBody(req);
    const url = req.url ?? '/';
    const params = queryParams(req, body);
    const action = params.get('Action') ?? '';
    const record: AccessAdvisorRequest = { at, action, params, status: 200, error: null, forwarded: false };
    requests.push(record);
    const requestId = randomUUID();
    const refuse = (status: number, code: string, message: string): void => {
      record.status = status;
      record.error = code;
      sendXml(res, status, errorXml(code, message, status, requestId), requestId);
    };

    try {
      // Authentication first, for every request, like AWS.
      const sig = verifySigV4(
        { method: req.method ?? 'GET', url, headers: req.headers, body },
        (id) => credentials[id],
        {
          service: 'iam',
        },
      );
      if (!sig.ok) {
        if (sig.failure === 'UnknownAccessKey') {
          throw new Refusal(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
        }
        if (sig.failure === 'MissingAuthentication') throw new Refusal(403, 'MissingAuthenticationToken', sig.message);
        if (sig.failure === 'Expired') throw new Refusal(403, 'RequestExpired', sig.message);
        throw new Refusal(403, 'SignatureDoesNotMatch', sig.message);
      }
      if (sig.region !== 'us-east-1') {
        throw new Refusal(
          403,
          'SignatureDoesNotMatch',
          `Credential should be scoped to a valid region, not '${sig.region}'.`,
        );
      }
      if (action === 'GenerateServiceLastAccessedDetails' || action === 'GetServiceLastAccessedDetails') {
        if (params.get('Version') !== '2010-05-08') {
          throw new Refusal(400, 'InvalidParameterValue', `Version must be 2010-05-08, got ${params.get('Version')}`);
        }
        if (deny.has(action)) {
          throw new Refusal(
            403,
            'AccessDenied',
            `User: arn:aws:iam::123456789012:user/dormant is not authorized to perform: iam:${action} on resource: ${params.get('Arn') ?? '*'}`,
          );
        }
        const xml =
          action === 'GenerateServiceLastAccessedDetails'
            ? await generate(req, params, requestId)
            : get(params, requestId);
        sendXml(res, 200, xml, requestId);
        return;
      }
      record.forwarded = true;
      const up = await forwardRequest(target, req.method ?? 'POST', url, { ...req.headers }, body);
      record.status = up.status;
      relay(res, up);
    } catch (err) {
      if (err instanceof Refusal) refuse(err.status, err.code, err.message);
      else
        refuse(502, 'ProxyUpstreamError', `access advisor fake: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const local = await serveLocal(handle);
  return {
    url: local.url,
    requests,
    advisorRequests: () =>
      requests.filter(
        (r) => r.action === 'GenerateServiceLastAccessedDetails' || r.action === 'GetServiceLastAccessedDetails',
      ),
    stop: local.stop,
  };
}
