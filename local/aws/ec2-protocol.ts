import type { EmulatorResponse, FaultRenderer } from '../http/emulator.ts';
import { AwsServiceError } from './errors.ts';
import { newRequestId } from './request-auth.ts';
import { escapeXml, renderFields, type XmlFields } from './xml.ts';

/**
 * How EC2 answers (ec2Query): `text/xml`, `<ActionResponse xmlns=…><requestId>…</requestId>…</ActionResponse>`
 * with the result's members directly inside (no `<ActionResult>`), lists as `<item>`; errors as `<Response><Errors>
 * <Error><Code>…</Code><Message>…</Message></Error></Errors><RequestID>…</RequestID></Response>`.
 */

export const EC2_NAMESPACE = 'http://ec2.amazonaws.com/doc/2016-11-15/';
export const EC2_VERSION = '2016-11-15';

const PROLOG = '<?xml version="1.0" encoding="UTF-8"?>\n';
const xmlHeaders = (requestId: string) => ({ 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId });

export function ec2Response(action: string, result: XmlFields): EmulatorResponse {
  const requestId = newRequestId();
  const body = [
    PROLOG,
    `<${action}Response xmlns="${EC2_NAMESPACE}">`,
    `<requestId>${requestId}</requestId>`,
    renderFields(result, 'item'),
    `</${action}Response>`,
  ].join('');
  return { status: 200, headers: xmlHeaders(requestId), body };
}

export function ec2Error(error: AwsServiceError): EmulatorResponse {
  const requestId = newRequestId();
  const body = [
    PROLOG,
    '<Response><Errors><Error>',
    `<Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message>`,
    '</Error></Errors>',
    `<RequestID>${requestId}</RequestID>`,
    '</Response>',
  ].join('');
  return { status: error.status, headers: xmlHeaders(requestId), body };
}

/** EC2's own fault names: `RequestLimitExceeded` (HTTP 503) when rate-limited, `Unavailable`, `InternalError`. */
export const ec2Faults: FaultRenderer = {
  serverError: (status) =>
    ec2Error(
      status === 503
        ? new AwsServiceError('Unavailable', "The server is overloaded and can't handle the request.", { status })
        : new AwsServiceError('InternalError', 'An internal error has occurred.', { status }),
    ),
  throttled: () => ec2Error(new AwsServiceError('RequestLimitExceeded', 'Request limit exceeded.', { status: 503 })),
};
