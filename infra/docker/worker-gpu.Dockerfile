# syntax=docker/dockerfile:1.7
# coinseg worker on NVIDIA GPUs: CUDA 12 + cuDNN 9 runtime, onnxruntime-node with its CUDA
# execution provider installed at image build time (the network exists here, unlike on dev machines).
# Build from the repository root:
#   docker build --platform linux/amd64 -f infra/docker/worker-gpu.Dockerfile -t coinseg-worker-gpu .
# Checked by test/infra/dockerfiles.test.ts (hadolint when installed, else the checklist there).

FROM node:20.19.5-bookworm-slim AS node

FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04 AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Scripts stay off for the dependency tree; onnxruntime-node's installer runs once, explicitly,
# fetching the CUDA 12 provider libraries that match the bundled CPU runtime.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && (cd node_modules/onnxruntime-node && ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js) \
 && find node_modules/onnxruntime-node/bin -name libonnxruntime_providers_cuda.so | grep -q .
COPY . .
RUN DATABASE_URL=postgresql://build@localhost/build sh scripts/generate.sh \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund
# Models are baked in: every models/<key>/model.onnx must match the sha256 in its model.json.
RUN for spec in models/*/model.json; do \
      [ -e "$spec" ] || continue; \
      dir="$(dirname "$spec")"; \
      want="$(node -p "require('./$spec').sha256")"; file="$(node -p "require('./$spec').file")"; \
      echo "$want  $dir/$file" | sha256sum -c -; \
    done

FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04
ENV NODE_ENV=production \
    ORT_EXECUTION_PROVIDERS=cuda,cpu \
    METRICS_PORT=9464 \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/rds-global-bundle.pem
COPY --from=node /usr/local/bin/node /usr/local/bin/node
RUN groupadd --system --gid 10001 coinseg \
 && useradd --system --uid 10001 --gid coinseg --home-dir /app --shell /usr/sbin/nologin coinseg
WORKDIR /app
ADD --chmod=644 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /etc/ssl/certs/rds-global-bundle.pem
COPY --from=build --chown=coinseg:coinseg /app /app
USER coinseg
EXPOSE 9464
# The worker serves Prometheus metrics on METRICS_PORT (issue 6); unhealthy when it stops answering.
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.METRICS_PORT + '/metrics').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/app/infra/docker/worker-entrypoint.sh"]
CMD ["node", "--import", "tsx", "app/worker.ts"]
