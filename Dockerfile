# syntax=docker/dockerfile:1
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/docuvault .
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/docuvault /usr/local/bin/docuvault
COPY --from=build --chown=nonroot:nonroot /out/data /data
ENV DOCUVAULT_SERVER_LISTEN=0.0.0.0:8080 \
    DOCUVAULT_SERVER_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
USER nonroot:nonroot
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s CMD ["/usr/local/bin/docuvault", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/docuvault"]
CMD ["serve"]
