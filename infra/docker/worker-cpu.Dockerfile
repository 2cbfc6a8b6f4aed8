# syntax=docker/dockerfile:1.7
# coinseg worker, CPU only (ONNX Runtime's CPU provider, bundled in onnxruntime-node); also runs
# migrations. Build from the repository root:
#   docker build --platform linux/amd64 -f infra/docker/worker-cpu.Dockerfile -t coinseg-worker-cpu .
# Checked by test/infra/dockerfiles.test.ts (hadolint when installed, else the checklist there).

FROM node:20.19.5-bookworm-slim AS build
WORKDIR /app
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# The CPU provider ships inside onnxruntime-node: skip its download of the CUDA provider.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# Prisma client + GraphQL types (generated/); Prisma 7 wants a DATABASE_URL even to generate.
RUN DATABASE_URL=postgresql://build@localhost/build sh scripts/generate.sh \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund
# Models are baked in: every models/<key>/model.onnx must match the sha256 in its model.json.
RUN for spec in models/*/model.json; do \
      [ -e "$spec" ] || continue; \
      dir="$(dirname "$spec")"; \
      want="$(node -p "require('./$spec').sha256")"; file="$(node -p "require('./$spec').file")"; \
      echo "$want  $dir/$file" | sha256sum -c -; \
    done

FROM node:20.19.5-bookworm-slim
ENV NODE_ENV=production \
    ORT_EXECUTION_PROVIDERS=cpu \
    METRICS_PORT=9464 \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/rds-global-bundle.pem
WORKDIR /app
# Amazon RDS CA bundle: migrations connect to the Aurora writer with TLS verification.
ADD --chmod=644 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /etc/ssl/certs/rds-global-bundle.pem
COPY --from=build --chown=node:node /app /app
USER node
EXPOSE 9464
# The worker serves Prometheus metrics on METRICS_PORT (issue 6); unhealthy when it stops answering.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.METRICS_PORT + '/metrics').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/app/infra/docker/worker-entrypoint.sh"]
CMD ["node", "--import", "tsx", "app/worker.ts"]
