import type * as z from 'zod';
import {
  type Emulator,
  type EmulatorRequest,
  type EmulatorResponse,
  type FaultRenderer,
  startEmulator,
} from '../http/emulator.ts';
import { AwsServiceError, serverFaultCode } from './errors.ts';
import { isSigned, newRequestId } from './request-auth.ts';

/**
 * How JSON-RPC services answer (`awsJson1_0` CloudWatch, `awsJson1_1` Secrets Manager): `POST /` with the action in
 * `X-Amz-Target`, a JSON body both ways, errors as `{"__type": …}`. A query-compatible service (CloudWatch, which
 * moved from awsQuery) also sends `x-amzn-query-error: <Code>;<Type>`, and the SDK names the error after that code.
 */
export interface JsonService {
  readonly contentType: 'application/x-amz-json-1.0' | 'application/x-amz-json-1.1';
  /** `GraniteServiceVersion20100801`, `secretsmanager`. */
  readonly targetPrefix: string;
  readonly queryCompatible: boolean;
  /** The JSON shape name of an error code where it differs (`InvalidParameterValue` → `…Exception`). */
  readonly shapeNames?: Readonly<Record<string, string>>;
  /** The key of the error text: CloudWatch writes `message`, Secrets Manager `Message`. */
  readonly messageKey: 'message' | 'Message';
  /** The service's own code for an internal fault, where it is not `InternalFailure`. */
  readonly internalErrorCode?: string;
}

export function jsonResponse(service: JsonService, body: unknown): EmulatorResponse {
  return {
    status: 200,
    headers: { 'content-type': service.contentType, 'x-amzn-requestid': newRequestId() },
    body: JSON.stringify(body),
  };
}

export function jsonError(service: JsonService, error: AwsServiceError): EmulatorResponse {
  const headers: Record<string, string> = {
    'content-type': service.contentType,
    'x-amzn-requestid': newRequestId(),
  };
  if (service.queryCompatible) {
    headers['x-amzn-query-error'] = `${error.code};${error.type}`;
  }
  const body = { __type: service.shapeNames?.[error.code] ?? error.code, [service.messageKey]: error.message };
  return { status: error.status, headers, body: JSON.stringify(body) };
}

export function jsonFaults(service: JsonService, throttleCode: string): FaultRenderer {
  return {
    serverError: (status) =>
      jsonError(
        service,
        new AwsServiceError(
          status === 503 ? serverFaultCode(status) : (service.internalErrorCode ?? serverFaultCode(status)),
          'An internal error occurred.',
          { status },
        ),
      ),
    throttled: () => jsonError(service, new AwsServiceError(throttleCode, 'Rate exceeded')),
  };
}

/** The action named by `X-Amz-Target`, when it carries the service's prefix. */
export function jsonActionOf(service: JsonService, request: EmulatorRequest): string | undefined {
  const target = request.headers['x-amz-target'];
  const prefix = `${service.targetPrefix}.`;
  return typeof target === 'string' && target.startsWith(prefix) ? target.slice(prefix.length) : undefined;
}

/**
 * The checks a JSON-RPC endpoint makes before the action runs: signed, the protocol's content type, a known target,
 * a JSON object body. Returns the action and the parsed body.
 */
export function readJsonRequest(
  service: JsonService,
  request: EmulatorRequest,
  known: ReadonlySet<string>,
): { readonly action: string; readonly body: unknown } {
  if (!isSigned(request.headers)) {
    throw new AwsServiceError('MissingAuthenticationToken', 'Missing Authentication Token', { status: 403 });
  }
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim();
  if (request.method !== 'POST' || contentType !== service.contentType) {
    // The emulator speaks one protocol only; an older client (awsQuery CloudWatch ≤ 3.948) must fail loudly here.
    throw new AwsServiceError(
      'SerializationException',
      `expected POST with content-type ${service.contentType}, got ${request.method} with ${contentType || 'none'}`,
    );
  }
  const action = jsonActionOf(service, request);
  if (action === undefined || !known.has(action)) {
    throw new AwsServiceError(
      'UnknownOperationException',
      `Unknown operation ${String(request.headers['x-amz-target'])}`,
    );
  }
  try {
    return { action, body: JSON.parse(request.text === '' ? '{}' : request.text) };
  } catch {
    throw new AwsServiceError('SerializationException', 'The request body is not valid JSON');
  }
}

/**
 * The body read against the action's input shape. A type mismatch is what AWS's JSON deserializer refuses as a
 * `SerializationException`; semantic checks (required members, limits) are the handler's, with the service's words.
 */
export function parseShape<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? 'the request' : issue.path.join('.');
    throw new AwsServiceError('SerializationException', `${where}: ${issue?.message ?? 'unexpected shape'}`);
  }
  return parsed.data;
}

/** An action: the parsed body in, the answer's JSON body out; refusals are thrown as `AwsServiceError`. */
export type JsonAction = (body: unknown, request: EmulatorRequest) => unknown;

export interface JsonEmulatorOptions {
  readonly name: string;
  readonly actions: Readonly<Record<string, JsonAction>>;
  /** The service's rate-limit error code (`Throttling`, `ThrottlingException`). */
  readonly throttleCode: string;
  readonly clock: () => number;
  readonly port?: number;
}

/** A JSON-RPC service on the common emulator server: request checks, dispatch by target, errors in its format. */
export function startJsonEmulator(service: JsonService, options: JsonEmulatorOptions): Promise<Emulator> {
  const known = new Set(Object.keys(options.actions));
  const handle = (request: EmulatorRequest): EmulatorResponse => {
    try {
      const { action, body } = readJsonRequest(service, request, known);
      const run = options.actions[action];
      if (run === undefined) {
        throw new AwsServiceError('UnknownOperationException', action);
      }
      return jsonResponse(service, run(body, request));
    } catch (error) {
      if (error instanceof AwsServiceError) {
        return jsonError(service, error);
      }
      throw error;
    }
  };
  return startEmulator({
    name: options.name,
    handle,
    operationOf: (request) => jsonActionOf(service, request),
    faults: jsonFaults(service, options.throttleCode),
    clock: options.clock,
    ...(options.port === undefined ? {} : { port: options.port }),
  });
}
