// An API Gateway HTTP API (payload 2.0) event for POST /graphql, as the Lambda handler receives it.
import type { APIGatewayProxyEventV2 } from "aws-lambda";

/** The event of a POST /graphql with a JSON `body` and extra `headers` (lower-case names). */
export function httpApiEvent(body: unknown, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  return {
    version: "2.0", routeKey: "POST /graphql", rawPath: "/graphql", rawQueryString: "", isBase64Encoded: false,
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    body: JSON.stringify(body),
    requestContext: {
      accountId: "123456789012", apiId: "api", domainName: "example.execute-api.us-east-1.amazonaws.com", domainPrefix: "example",
      http: { method: "POST", path: "/graphql", protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "test" },
      requestId: "req-1", routeKey: "POST /graphql", stage: "$default", time: "26/Nov/2026:00:00:00 +0000", timeEpoch: 0,
    },
  };
}

/** The event of a GET `path` with a query string (`rawQueryString` and the parsed parameters). */
export function httpApiGetEvent(path: string, query: Record<string, string> = {}, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  const base = httpApiEvent(undefined, headers);
  const rawQueryString = new URLSearchParams(query).toString();
  return {
    ...base, routeKey: "$default", rawPath: path, rawQueryString, body: undefined, headers: { ...headers },
    ...(rawQueryString ? { queryStringParameters: query } : {}),
    requestContext: { ...base.requestContext, routeKey: "$default", http: { ...base.requestContext.http, method: "GET", path } },
  };
}
