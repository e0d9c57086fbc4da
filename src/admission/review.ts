// Decoding and encoding AdmissionReviews. Decoding checks only the envelope
// (apiVersion, kind, request.uid, operation): the object stays plain JSON.
import {
  ADMISSION_V1,
  ADMISSION_V1BETA1,
  type AdmissionApiVersion,
  type AdmissionRequest,
  type AdmissionResponse,
  type AdmissionReview,
  type AdmissionReviewResponse,
} from './types.js';
import { isObject } from '../json.js';

export class BadReview extends Error {
  constructor(
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
    this.name = 'BadReview';
  }
}

const OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

export function decodeReview(body: unknown): AdmissionReview {
  if (!isObject(body)) throw new BadReview('the body must be an AdmissionReview JSON object');
  const { apiVersion, kind, request } = body;
  if (apiVersion !== ADMISSION_V1 && apiVersion !== ADMISSION_V1BETA1) {
    throw new BadReview(
      `apiVersion must be ${ADMISSION_V1} or ${ADMISSION_V1BETA1}, got ${JSON.stringify(apiVersion ?? null)}`,
    );
  }
  if (kind !== 'AdmissionReview')
    throw new BadReview(`kind must be AdmissionReview, got ${JSON.stringify(kind ?? null)}`);
  if (!isObject(request))
    throw new BadReview('request is missing: an AdmissionReview sent to a webhook must carry a request');
  if (typeof request.uid !== 'string' || request.uid === '')
    throw new BadReview('request.uid is missing: it must be a non-empty string to echo in the response');
  if (typeof request.operation !== 'string' || !OPERATIONS.has(request.operation)) {
    throw new BadReview(
      `request.operation must be one of CREATE, UPDATE, DELETE, CONNECT, got ${JSON.stringify(request.operation ?? null)}`,
    );
  }
  if (!isObject(request.kind) || typeof request.kind.kind !== 'string') {
    throw new BadReview('request.kind must be a {group, version, kind} object');
  }
  if ('object' in request && request.object !== null && !isObject(request.object)) {
    throw new BadReview(
      `request.object must be an object or null, got ${Array.isArray(request.object) ? 'an array' : typeof request.object}`,
    );
  }
  if ('dryRun' in request && request.dryRun !== undefined && typeof request.dryRun !== 'boolean') {
    throw new BadReview('request.dryRun must be a boolean');
  }
  if ('namespace' in request && request.namespace !== undefined && typeof request.namespace !== 'string') {
    throw new BadReview('request.namespace must be a string');
  }
  if ('name' in request && request.name !== undefined && typeof request.name !== 'string') {
    throw new BadReview('request.name must be a string');
  }
  return body as unknown as AdmissionReview;
}

export function encodeReview(
  apiVersion: AdmissionApiVersion,
  uid: string,
  response: Omit<AdmissionResponse, 'uid'>,
): AdmissionReviewResponse {
  return { apiVersion, kind: 'AdmissionReview', response: { uid, ...response } };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * encodeReview as JSON text. The base64 patch, the bulk of a mutating answer,
 * is spliced in rather than run through JSON.stringify: base64 never needs
 * escaping. `patchIsBase64` says the caller made it with Buffer#toString('base64');
 * anything else is checked first.
 */
export function encodeReviewJson(
  apiVersion: AdmissionApiVersion,
  uid: string,
  response: Omit<AdmissionResponse, 'uid'>,
  patchIsBase64 = false,
): string {
  const { patch, ...rest } = response;
  if (patch === undefined || (!patchIsBase64 && !BASE64.test(patch)))
    return JSON.stringify(encodeReview(apiVersion, uid, response));
  const head = JSON.stringify({ apiVersion, kind: 'AdmissionReview', response: { uid, ...rest } });
  // head ends with the two closing braces of response and the review.
  return `${head.slice(0, -2)},"patch":"${patch}"}}`;
}

export type { AdmissionRequest };
