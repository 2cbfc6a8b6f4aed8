// The shape every non-GraphQL GET route answers (slice previews, job mask volumes), and its two
// transports: Express in the standalone server, API Gateway (payload v2) in the Lambda.
import type { Request, Response } from "express";
import { isDomainError } from "../../core/errors/domain-error.ts";
import type { ErrorCode } from "../../core/errors/error-codes.ts";
import { httpStatusOf } from "./http-status.ts";

/** A coded JSON error, as GraphQL's `extensions.code`. */
export interface RouteError {
  readonly status: 400 | 401 | 403 | 404 | 413;
  readonly contentType: "application/json";
  readonly body: { code: ErrorCode; message: string; field?: string };
}

/** Bytes with their content type and extra headers (cache policy, file name), or a coded error. */
export type BinaryRouteResponse<C extends string = string> =
  | { readonly status: 200; readonly contentType: C; readonly body: Uint8Array; readonly headers: Readonly<Record<string, string>> }
  | RouteError;

/** Runs a route's logic; a domain error becomes its coded JSON answer, anything else is thrown. */
export async function answerDomainErrors<T>(run: () => Promise<T>): Promise<T | RouteError> {
  try {
    return await run();
  } catch (error) {
    if (!isDomainError(error)) throw error;
    return { status: httpStatusOf(error.code), contentType: "application/json", body: { code: error.code, message: error.message } };
  }
}

/** An Express handler around a route's logic. */
export function expressBinaryHandler(route: (req: Request) => Promise<BinaryRouteResponse>) {
  return async (req: Request, res: Response, next: (error: unknown) => void): Promise<void> => {
    try {
      const out = await route(req);
      if (out.status !== 200) return void res.status(out.status).json(out.body);
      res.status(200).set({ "content-type": out.contentType, ...out.headers }).send(Buffer.from(out.body.buffer, out.body.byteOffset, out.body.byteLength));
    } catch (error) {
      next(error);
    }
  };
}

/** API Gateway's limit on a Lambda response (6 MB), less room for headers; base64 grows bytes by 4/3. */
const LAMBDA_MAX_BODY_BYTES = Math.floor(((6 * 1024 * 1024 - 16 * 1024) * 3) / 4);

/**
 * The API Gateway (payload v2) answer of a route: bytes base64-encoded, or its coded JSON error. A
 * body that API Gateway would refuse answers 413 IMAGING_TOO_LARGE instead (the standalone server
 * has no such limit).
 */
export function lambdaBinaryResponse(out: BinaryRouteResponse): { statusCode: number; headers: Record<string, string>; body: string; isBase64Encoded?: boolean } {
  if (out.status === 200 && out.body.byteLength > LAMBDA_MAX_BODY_BYTES) {
    return lambdaBinaryResponse({
      status: 413, contentType: "application/json",
      body: { code: "IMAGING_TOO_LARGE", message: `the answer (${out.body.byteLength} bytes) exceeds what API Gateway returns (${LAMBDA_MAX_BODY_BYTES}); use the standalone server` },
    });
  }
  return out.status === 200
    ? { statusCode: 200, headers: { "content-type": out.contentType, ...out.headers }, body: Buffer.from(out.body).toString("base64"), isBase64Encoded: true }
    : { statusCode: out.status, headers: { "content-type": out.contentType }, body: JSON.stringify(out.body) };
}
