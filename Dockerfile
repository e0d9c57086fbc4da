# vineyard-webhook container image.
#
#   docker build -t vineyard-webhook:0.1.0 .
#
# Base image: the official Node image at the exact release the `node`
# devDependency pins in package.json (what npm scripts and the tests run on);
# test/dockerfile.test.ts keeps the two equal. Where digests are managed,
# append one: node:24.21.0-bookworm-slim@sha256:<digest>.
#
# The runtime stage has no RUN: it needs no shell (exec-form entrypoint; the
# Deployment's preStop pause is the kubelet's own sleep), so its FROM can be
# swapped for gcr.io/distroless/nodejs24-debian12 (no shell, no npm). That
# image publishes only moving tags (latest, nonroot), so it can be pinned by
# digest alone, which is why it is not the default here.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# Production dependencies only. None has an install script, so none runs.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Every dependency (TypeScript, and the `node` devDependency npm scripts run
# with), then the build.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# package.json: "type": "module" makes dist/*.js ES modules.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The image's `node` user, by number: Kubernetes' runAsNonRoot can only verify a numeric USER.
USER 1000:1000
# 9443: the webhook (TLS); 8080: /metrics, /healthz and /readyz over plain HTTP (--metrics-port).
EXPOSE 9443 8080
# Without V8's Maglev tier: its compile jobs leave freed malloc memory in the
# process (15-20 MB of RSS) for no CPU gain in a long-running server.
ENTRYPOINT ["node", "--no-maglev", "dist/cli.js", "serve"]
