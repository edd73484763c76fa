# gatehouse as a container image:  docker build -t gatehouse .
#
#   docker run -d --name gatehouse -p 5000:5000 -v gatehouse-data:/var/lib/gatehouse gatehouse
#
# Two stages on Debian 12: the first compiles with the -dev packages of scripts/install-deps.sh
# (group build) and libmicrohttpd 1.0 built from Debian's source archive, the second holds only
# the runtime libraries, CA certificates and the stripped binary. The server runs as uid 10001, writes only to the volume /var/lib/gatehouse (the
# SQLite database, mail files, avatars and any temporary file), so the root filesystem can be
# read-only, and stops cleanly on SIGTERM as PID 1. README.md ("Container image") has the
# settings a deployment needs and a compose file with PostgreSQL and Redis.

FROM debian:bookworm-slim AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      gcc make pkg-config curl patch libsodium-dev libjansson-dev libsqlite3-dev \
      libcurl4-openssl-dev libpq-dev libhiredis-dev libssl-dev libargon2-dev \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# libmicrohttpd 1.0, linked statically (Debian 12 packages 0.9.75): its own layer, so it is
# built once and reused while only gatehouse's sources change.
COPY scripts/build-libmicrohttpd.sh scripts/libmicrohttpd-*.patch scripts/
RUN scripts/build-libmicrohttpd.sh /opt/libmicrohttpd
# Only what the build reads, so edits to docs and tests reuse the cached layers above.
COPY Makefile ./
COPY scripts/embed-web.sh scripts/
COPY assets assets
COPY web web
COPY src src
COPY docs/openapi.yaml docs/
# Debian's hardening flags (what dpkg-buildflags gives packages); -Werror stays on.
RUN make -j"$(nproc)" BUILD=/out MHD_PREFIX=/opt/libmicrohttpd \
      CFLAGS="-O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection -fcf-protection -Wl,-z,relro,-z,now" \
 && strip /out/gatehouse \
 && /out/gatehouse --version

FROM debian:bookworm-slim
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libsodium23 libjansson4 libsqlite3-0 libcurl4 libpq5 libhiredis0.14 \
      libssl3 libargon2-1 ca-certificates \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 gatehouse \
 && useradd --uid 10001 --gid 10001 --home-dir /var/lib/gatehouse --no-create-home \
      --shell /usr/sbin/nologin gatehouse \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/gatehouse
COPY --from=build /out/gatehouse /usr/local/bin/gatehouse

# Listen on every address of the container; the data directory is the volume. TMPDIR points
# into it too (SQLite's temporary files), so nothing is written outside it. The public URL
# suits `-p 5000:5000` on one's own machine: set GATEHOUSE_PUBLIC_URL to the address browsers
# use (mail links, allowed origins, cookie Secure follow it).
ENV GATEHOUSE_LISTEN=0.0.0.0:5000 \
    GATEHOUSE_DATA_DIR=/var/lib/gatehouse \
    GATEHOUSE_PUBLIC_URL=http://localhost:5000 \
    GATEHOUSE_LOG_FORMAT=json \
    TMPDIR=/var/lib/gatehouse
USER 10001:10001
WORKDIR /var/lib/gatehouse
VOLUME ["/var/lib/gatehouse"]
EXPOSE 5000

# The binary is PID 1 (exec form, no shell): SIGTERM reaches it, it finishes in-flight requests
# for at most 10 s and exits 0 (a stop timeout above that, e.g. --stop-timeout 15, leaves room).
# The health check is a subcommand: the image has no curl.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/gatehouse", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/gatehouse"]
CMD ["serve"]
