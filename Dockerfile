# One image for the bridge, the worker and the edge's key sync (the command picks which). The
# bridge and the workers run compiled (dist/, as the benchmark measures them); `npm run build` also
# writes the workers' workflow bundles (dist/workflow-bundles), so no worker runs webpack when it
# starts. The dev tools use tsx.
FROM node:20-bookworm-slim
# haproxy: the key sync checks the edge config with `haproxy -c` (the same 2.6.12 as the tests);
# openssl: the development certificate; git and bubblewrap: CI checkouts and the step sandbox;
# python3-seccomp: libseccomp compiles the steps' seccomp filter (deploy/seccomp) at the CI
# worker's start; socat: the loopback end of network steps' egress proxy.
RUN apt-get update && apt-get install -y --no-install-recommends haproxy openssl git bubblewrap python3-seccomp socat && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# npm ci runs the package's prepare step (scripts/prepare.js), which compiles the gatehouse command
# where the sources are; here they are not yet (npm run build compiles everything below).
COPY package.json package-lock.json ./
COPY scripts/prepare.js ./scripts/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY config ./config
COPY scripts ./scripts
COPY haproxy ./haproxy
COPY deploy/seccomp ./deploy/seccomp
RUN npm run build
# The embedded ledger and CI scratch directories (config-relative ../.data) belong to the user the
# processes run as.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
# MALLOC_ARENA_MAX: src/config/node-environment.ts.
ENV NODE_ENV=production MALLOC_ARENA_MAX=2
EXPOSE 8080
CMD ["node", "--max-semi-space-size=2", "dist/src/server.js"]
