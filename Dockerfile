# syntax=docker/dockerfile:1
# Plexus image: the `plexus` CLI (controller, worker, bridge, run) on Node.js.
#   docker build -t plexus:dev .
#   docker build --build-arg NODE_VERSION=22 -t plexus:dev-node22 .
# Node.js 20 is the base today; Node.js 22 LTS is the target (the code runs on both: set NODE_VERSION=22).
ARG NODE_VERSION=20
ARG DEBIAN_RELEASE=bookworm

# ---- build: full dependencies, TypeScript compiled to dist/ ----
FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS build
WORKDIR /src
# Toolchain for native modules (better-sqlite3) when no prebuilt binary matches the platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build

# ---- deps: production dependencies only ----
FROM build AS deps
RUN npm ci --omit=dev && npm cache clean --force

# ---- runtime ----
FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS runtime
LABEL org.opencontainers.image.title="plexus" \
      org.opencontainers.image.description="Batch data pipelines (Capillaries scripts) and stream bridges on Kubernetes" \
      org.opencontainers.image.licenses="Apache-2.0"
# python3 runs py_calc nodes; tini forwards signals to node and reaps children (py_calc interpreters).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PLEXUS_PYTHON=python3
WORKDIR /app
COPY --from=deps /src/package.json /src/package-lock.json ./
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
RUN ln -s /app/dist/src/cli/main.js /usr/local/bin/plexus \
 && chmod 0755 /app/dist/src/cli/main.js \
 && mkdir -p /var/lib/plexus \
 && chown 1000:1000 /var/lib/plexus
# The image's `node` user, by number so that runAsNonRoot can be verified by the kubelet.
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/src/cli/main.js"]
CMD ["--help"]
