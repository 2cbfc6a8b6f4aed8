# syntax=docker/dockerfile:1.7
# coinseg API as a Lambda container image: handlers `lambda.handler` (HTTP API, app/lambda.ts),
# `lambda-websocket.handler` (WebSocket API, app/lambda-websocket.ts) and `lambda-outbox-relay.handler`
# (scheduled outbox relay, app/lambda-outbox-relay.ts). TypeScript runs through tsx's loader, as
# everywhere else in coinseg. Build from the repository root:
#   docker build --platform linux/amd64 -f infra/docker/api-lambda.Dockerfile -t coinseg-api .
# Checked by test/infra/dockerfiles.test.ts (hadolint when installed, else the checklist there).

FROM node:20.19.5-bookworm-slim AS build
WORKDIR /app
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# The API never runs inference: no CUDA provider download.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN DATABASE_URL=postgresql://build@localhost/build sh scripts/generate.sh \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && cp infra/docker/lambda/*.mjs .

# Major-version tag of the AWS Lambda Node.js 20 base image; pin its digest at release time
# (docker buildx imagetools inspect public.ecr.aws/lambda/nodejs:20) for bit-for-bit rebuilds.
FROM public.ecr.aws/lambda/nodejs:20
ENV NODE_ENV=production \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/rds-global-bundle.pem
ADD --chmod=644 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /etc/ssl/certs/rds-global-bundle.pem
COPY --from=build /app ${LAMBDA_TASK_ROOT}
# Lambda runs functions as an unprivileged sandbox user whatever USER says; say it anyway.
USER 1000
# The Lambda service checks the function itself (init and invoke errors); a Docker HEALTHCHECK
# would never run there, so the image declares none on purpose.
HEALTHCHECK NONE
CMD ["lambda.handler"]
