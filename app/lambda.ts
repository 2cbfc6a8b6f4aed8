// AWS Lambda entry point for the GraphQL API (API Gateway HTTP API, payload format 2.0).
import { createLambdaHandler } from "./lambda/create-lambda-handler.ts";

/** The Lambda handler; configuration is read once, at cold start. */
export const handler = createLambdaHandler(process.env);
