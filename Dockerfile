# One image for the bridge and the worker (the command picks which). Node 20, production deps
# plus tsx, which runs the TypeScript sources directly.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY config ./config
COPY scripts ./scripts
USER node
ENV NODE_ENV=production
EXPOSE 8080
CMD ["node", "--import", "tsx", "src/server.ts"]
