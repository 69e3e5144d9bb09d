# One image for the bridge, the worker and the edge's key sync (the command picks which). Node 20, production deps
# plus tsx, which runs the TypeScript sources directly.
FROM node:20-bookworm-slim
# haproxy: the key sync checks the edge config with `haproxy -c` (the same 2.6.12 as the tests);
# openssl: the development certificate.
RUN apt-get update && apt-get install -y --no-install-recommends haproxy openssl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY config ./config
COPY scripts ./scripts
COPY haproxy ./haproxy
USER node
ENV NODE_ENV=production
EXPOSE 8080
CMD ["node", "--import", "tsx", "src/server.ts"]
