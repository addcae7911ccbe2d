# syntax=docker/dockerfile:1
# Herald's container image: one static binary on distroless, non-root, no
# shell. It runs `herald gateway`, `herald controlplane` and `herald migrate`
# against an external NATS cluster and PostgreSQL; `herald dev` needs
# PostgreSQL's binaries (initdb, pg_ctl), which this image does not have.
#
#   docker build -t herald .
#   docker run --rm herald version

# The builder's Go matches go.mod's go directive.
ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first, so that a source change reuses the download layer; go.mod
# replaces the Go SDK's module with ./sdk/go, whose go.mod must be there.
COPY go.mod go.sum ./
COPY sdk/go/go.mod sdk/go/go.sum ./sdk/go/
RUN go mod download
COPY . .
# As the Makefile's build target: -buildvcs=auto stamps the commit that
# `herald version` prints when .git is in the context and builds without it
# otherwise (.dockerignore leaves .git out by default). CGO off gives a
# static binary that needs no libc.
ARG TARGETOS=linux
ARG TARGETARCH
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -buildvcs=auto -ldflags="-s -w" -o /out/herald ./cmd/herald

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/herald /herald
# nonroot is uid 65532; numeric so that runAsNonRoot can verify it.
USER 65532:65532
# Listen on every interface inside the container; the default
# 127.0.0.1:6001 would be unreachable from outside it.
ENV HERALD_ADDR=0.0.0.0:6001 \
    HERALD_LOG_FORMAT=json
EXPOSE 6001
# `herald healthcheck` reads HERALD_ADDR (and HERALD_TLS_CERT) like the
# server, so it probes the same port; exec form, no shell needed.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/herald", "healthcheck"]
ENTRYPOINT ["/herald"]
CMD ["help"]
