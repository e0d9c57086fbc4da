// Failure bodies exactly as kube-apiserver writes them (metav1.Status), so code
// under test parses the same reason, message and details it would in a cluster.
import { qualifiedName, type ResourceType } from './fake-resources.js';

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: { reason?: string; message?: string; field?: string }[];
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export interface Reply {
  status: number;
  body: unknown;
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** The reason kube-apiserver uses for a bare HTTP status. */
export const reasonFor = (code: number): string => REASONS[code] ?? 'Unknown';

export function failure(code: number, reason: string, message: string, details?: StatusDetails): Reply {
  const body: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) body.details = details;
  return { status: code, body };
}

const detailsOf = (t: ResourceType, name: string): StatusDetails =>
  t.group ? { name, group: t.group, kind: t.plural } : { name, kind: t.plural };

export const notFound = (t: ResourceType, name: string): Reply =>
  failure(404, 'NotFound', `${qualifiedName(t)} "${name}" not found`, detailsOf(t, name));

/** What the server says for a path it does not serve, e.g. a CRD that is not installed. */
export const noSuchResource = (): Reply =>
  failure(404, 'NotFound', 'the server could not find the requested resource', {});

export const alreadyExists = (t: ResourceType, name: string): Reply =>
  failure(409, 'AlreadyExists', `${qualifiedName(t)} "${name}" already exists`, detailsOf(t, name));

export const conflict = (t: ResourceType, name: string): Reply =>
  failure(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedName(t)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    detailsOf(t, name),
  );

export const badRequest = (message: string): Reply => failure(400, 'BadRequest', message);

export const methodNotAllowed = (): Reply =>
  failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});

export const unsupportedMediaType = (contentType: string): Reply =>
  failure(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${contentType || 'none'})`,
  );

/** A JSON patch that does not apply (failed `test`, missing path): 422 with the cause, as the server answers. */
export const patchRejected = (cause: string): Reply =>
  failure(422, 'Invalid', 'the server rejected our request due to an error in our request', {
    causes: [{ reason: 'UnexpectedServerResponse', message: cause }],
  });

export const nameRequired = (t: ResourceType): Reply =>
  failure(422, 'Invalid', `${t.kind} "" is invalid: metadata.name: Required value: name or generateName is required`, {
    ...(t.group ? { group: t.group } : {}),
    kind: t.kind,
    causes: [
      {
        reason: 'FieldValueRequired',
        message: 'Required value: name or generateName is required',
        field: 'metadata.name',
      },
    ],
  });

export function deleted(t: ResourceType, name: string, uid: string | undefined): Reply {
  const details: StatusDetails = { ...detailsOf(t, name), ...(uid ? { uid } : {}) };
  return { status: 200, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details } };
}
