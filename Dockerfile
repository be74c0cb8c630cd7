# trendflow: build the release binary, then ship it on a slim Debian.
FROM rust:1.85-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin trendflow

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/trendflow /usr/local/bin/trendflow
WORKDIR /data
ENTRYPOINT ["trendflow"]
CMD ["run"]
