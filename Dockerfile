# syntax=docker/dockerfile:1
# Stratus: one image for every role (api, worker, all) and for `stratus sim`.
#   docker build -t stratus .
#   docker run --rm -p 8080:8080 stratus              # embedded default, data in the volume
# See deploy/compose/compose.yaml for the replicated setup on PostgreSQL and Redis.

# --- build: compile TypeScript, then keep only the production dependencies ---
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY bin ./bin
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- run: no compiler, no dev dependencies, not root ---
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    STRATUS_DATA_DIR=/var/lib/stratus \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
# The embedded default keeps its database and admin key here; the `node` user (uid 1000) owns it.
RUN mkdir -p /var/lib/stratus && chown node:node /var/lib/stratus
VOLUME ["/var/lib/stratus"]
USER node
EXPOSE 8080 9090
# Node is PID 1 and the server handles SIGTERM itself: /readyz turns 503 for --drain-delay-ms,
# in-flight work drains, then it exits. Give the container a stop timeout longer than
# --shutdown-timeout-ms (30 s by default).
STOPSIGNAL SIGTERM
# /healthz answers on the api port, or on HEALTH_PORT for a worker that sets one.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.HEALTH_PORT || process.env.PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/stratus.js"]
CMD ["start"]
