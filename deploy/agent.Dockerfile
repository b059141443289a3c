# The reference agent (packages/agent) as an AgentCore Runtime container: linux/arm64, listening on 0.0.0.0:8080.
# Built by `cdk deploy` from the repository root (deploy/src/deploy-plan.ts lists the files in the context).
FROM --platform=linux/arm64 node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/ packages/
COPY deploy/package.json deploy/package.json
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
ENV NODE_ENV=production GATEHOUSE_AGENT_HOST=0.0.0.0 PORT=8080
USER node
EXPOSE 8080
CMD ["node", "--disable-warning=ExperimentalWarning", "packages/agent/src/main.ts"]
