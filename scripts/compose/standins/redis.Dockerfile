# Stand-in for redis:7 where no registry is reachable: Debian 12's Redis 7, run as the official image runs it
# (redis-entrypoint.sh): as the redis user, in /data, protected mode off.
ARG BASE=localhost/shop-debian-minbase:bookworm
FROM ${BASE}
LABEL org.shop-platform.standin="redis:7"
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
    && apt-get update \
    && apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
    && install -d -o redis -g redis /data
COPY redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /data
WORKDIR /data
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
EXPOSE 6379
CMD ["redis-server"]
