# syntax=docker/dockerfile:1
#
# Churn gateway image. Two stages:
#   build   - full npm install, `npm run build` (UI assets -> ui/dist/, TypeScript -> dist/);
#             discarded after its outputs are copied out.
#   runtime - Node LTS slim, production dependencies only, the onnxruntime binaries of the target
#             architecture only (TARGETARCH),
#             the committed model bundle baked in, non-root, exec-form CMD.
# Build and run: docs/delivery.md ("Build and run the image") gives the command with every build
# arg the labels need (GIT_COMMIT, MODEL_VERSION, MODEL_SHA256).
# The runtime stage is checked without Docker by scripts/docker-smoke.ts (see docs/delivery.md):
# keep its COPY/RUN/ENV/CMD lines simple (one instruction per line, no globs in COPY sources).

# Node >= 20 is required (package.json engines); 22 is an LTS line and satisfies every dependency's engines.
FROM node:22-bookworm-slim AS build
WORKDIR /app
# onnxruntime-node's install script downloads GPU binaries; the CPU binaries ship in the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
# The whole (dockerignored) context, so new build inputs (e.g. ui/) need no Dockerfile change.
COPY . .
# Prune dev dependencies once built, so this stage never offers dev packages to a later COPY.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=8000
WORKDIR /app

# Production dependencies only. --ignore-scripts: the only dependency with an install script is
# onnxruntime-node, whose script would only fetch GPU binaries. Then drop every onnxruntime
# binary but the linux one of the architecture built for (~290 MB -> ~45 MB): BuildKit sets
# TARGETARCH to the platform's (the host's unless --platform names one), so a build on an arm64
# machine keeps linux/arm64, the only binary its node can load; onnxruntime-node ships linux
# binaries for x64 and arm64 only, so any other platform stops here. TARGETARCH is constant per
# platform, so declaring it before `npm ci` does not invalidate that layer. The npm cache lives in
# a build cache mount, not a layer. Last, the packages only the UI build uses (ui/src/build.ts
# copies their assets into ui/dist/; the gateway imports none of them): they stay dependencies, so
# `npm audit --omit=dev` covers what is served to browsers, but do not ship (~29 MB).
ARG TARGETARCH
# --chmod: the gateway reads package.json at run time (src/rest/openapi.ts); see the bundle's COPY below.
COPY --chmod=u=rwX,go=rX package.json package-lock.json .npmrc ./
RUN --mount=type=cache,target=/root/.npm case "$TARGETARCH" in \
      amd64) ort_arch=x64 ;; \
      arm64) ort_arch=arm64 ;; \
      *) echo "TARGETARCH=\"$TARGETARCH\": the image builds for linux/amd64 or linux/arm64 only (onnxruntime-node has linux binaries for x64 and arm64); build with BuildKit, which sets TARGETARCH, and --platform linux/amd64 or linux/arm64" >&2; exit 1 ;; \
    esac \
 && ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && find node_modules/onnxruntime-node/bin -mindepth 2 -maxdepth 2 ! -name linux -exec rm -rf {} + \
 && find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 ! -name "$ort_arch" -exec rm -rf {} + \
 && test -n "$(find node_modules/onnxruntime-node/bin -path "*/linux/$ort_arch/onnxruntime_binding.node")" \
 && rm -rf node_modules/swagger-ui-dist node_modules/@scarf/scarf node_modules/@graphql-yoga/render-graphiql

# What the gateway reads stays root-owned, but readable by its uid 1000 whatever modes the checkout
# has (--chmod): COPY keeps them, and one made under umask 077 has 0600 files and 0700 directories.
# u=rwX,go=rX (Dockerfile syntax 1.14+) gives files 644 and directories 755; an octal --chmod would
# give directories the files' mode too, and 644 ones cannot be entered.
# The model bundle (model.onnx, manifest.json, parity.json, explainer.json, group_report.json); MODEL_DIR defaults to
# model/bundle under /app.
COPY --chmod=u=rwX,go=rX model/bundle ./model/bundle
# Everything `npm run build` produces: the compiled gateway and the UI's static assets.
COPY --from=build --chmod=u=rwX,go=rX /app/dist ./dist
COPY --from=build --chmod=u=rwX,go=rX /app/ui/dist ./ui/dist

# Build metadata last: every RUN after an ARG sees it in its environment, so declaring GIT_COMMIT
# (new on every commit) before `npm ci` would rebuild the dependency layer on every release.
ARG GIT_COMMIT=unknown
ARG MODEL_VERSION=unknown
ARG MODEL_SHA256=unknown
ARG SOURCE_URL=https://github.com/telcochurn/churn-gateway
LABEL org.opencontainers.image.title="churn-gateway" \
      org.opencontainers.image.description="Churn prediction gateway: GraphQL + REST inference over an ONNX model" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.revision="${GIT_COMMIT}" \
      org.opencontainers.image.licenses="NOASSERTION" \
      io.churn-gateway.model.version="${MODEL_VERSION}" \
      io.churn-gateway.model.sha256="${MODEL_SHA256}"
# The gateway reads the commit too (src/config.ts GATEWAY_REVISION) and writes it on its `ready`
# line, so the logs say which build each task runs; "unknown" without the build arg.
ENV GATEWAY_REVISION="${GIT_COMMIT}"

# The only writable path beside the read-only root filesystem. ECS on Fargate creates the task's
# /tmp bind mount (infra/) root-owned 0755, which USER 1000 could not write, unless the image
# declares the path a VOLUME: then the mount takes the image's /tmp, 1777 as Debian's base-files
# ships it. Nothing writes /tmp today; it is there for Node and libraries that want a scratch file.
# After the last RUN: the classic builder discards what a later step writes under a VOLUME.
VOLUME ["/tmp"]
# Files stay root-owned (read-only for the app); the process runs as the base image's unprivileged
# `node` user, by number so that runtimes checking runAsNonRoot (Kubernetes) can verify it.
USER 1000:1000
EXPOSE 8000
# No curl in slim images: Node's fetch. GET / is 200 when ready, 503 while loading. On SIGTERM the
# gateway closes its listener, so from then on the check fails on a refused connection (only a
# request on a connection still open gets 503 draining). Sent to OPS_PORT when it is set: on PORT
# a busy gateway accepts it after every connection queued there (README, OPS_PORT).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.OPS_PORT||process.env.PORT||8000)+'/').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM directly (the gateway drains and exits on it).
CMD ["node", "dist/src/main.js"]
