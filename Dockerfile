# syntax=docker/dockerfile:1
# Two images from one file:
#   docker build -t docuvault .                   static binary on distroless (default, no OCR)
#   docker build --target full -t docuvault:full .  Debian slim with tesseract-ocr (eng, deu): OCR for scans and photos
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/docuvault .
RUN mkdir -p /out/data

# The same static binary beside Tesseract 5 with English and German language data.
FROM debian:bookworm-slim AS full
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       tesseract-ocr tesseract-ocr-eng tesseract-ocr-deu ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 65532 --home-dir /data nonroot
COPY --from=build /out/docuvault /usr/local/bin/docuvault
COPY --from=build --chown=nonroot:nonroot /out/data /data
ENV DOCUVAULT_SERVER_LISTEN=0.0.0.0:8080 \
    DOCUVAULT_SERVER_DATA_DIR=/data \
    DOCUVAULT_OCR_LANGUAGES=eng+deu
VOLUME ["/data"]
EXPOSE 8080
USER nonroot:nonroot
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s CMD ["/usr/local/bin/docuvault", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/docuvault"]
CMD ["serve"]

# The default image (last stage): the static binary alone.
FROM gcr.io/distroless/static-debian12:nonroot AS static
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
