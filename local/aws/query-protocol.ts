import type { EmulatorResponse, FaultRenderer } from '../http/emulator.ts';
import { AwsServiceError, serverFaultCode } from './errors.ts';
import { newRequestId } from './request-auth.ts';
import { escapeXml, renderFields, type XmlFields } from './xml.ts';

/** How awsQuery services (Auto Scaling here) answer: `text/xml`, one `<XResponse>` per action. */

/** AWS sends the request id twice, in the XML and as a header; the SDK reads `$metadata.requestId` from the header. */
const xmlHeaders = (requestId: string) => ({ 'content-type': 'text/xml', 'x-amzn-requestid': requestId });

/**
 * `<ActionResponse xmlns=…><ActionResult>…</ActionResult><ResponseMetadata>…</ResponseMetadata></ActionResponse>`.
 * Actions without output (`SetDesiredCapacity`) have no `<ActionResult>` at all, as AWS answers them.
 */
export function queryResponse(namespace: string, action: string, result?: XmlFields): EmulatorResponse {
  const requestId = newRequestId();
  const body = [
    `<${action}Response xmlns="${namespace}">`,
    result === undefined ? '' : `<${action}Result>${renderFields(result)}</${action}Result>`,
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>`,
    `</${action}Response>`,
  ].join('');
  return { status: 200, headers: xmlHeaders(requestId), body };
}

export function queryError(error: AwsServiceError): EmulatorResponse {
  const requestId = newRequestId();
  const body = [
    '<ErrorResponse>',
    `<Error><Type>${error.type}</Type><Code>${escapeXml(error.code)}</Code>`,
    `<Message>${escapeXml(error.message)}</Message></Error>`,
    `<RequestId>${requestId}</RequestId>`,
    '</ErrorResponse>',
  ].join('');
  return { status: error.status, headers: xmlHeaders(requestId), body };
}

/** Injected faults in the service's own words: `Throttling` is what awsQuery services send when rate-limited. */
export const queryFaults: FaultRenderer = {
  serverError: (status) =>
    queryError(new AwsServiceError(serverFaultCode(status), 'An internal error occurred. Try again.', { status })),
  throttled: () => queryError(new AwsServiceError('Throttling', 'Rate exceeded')),
};
