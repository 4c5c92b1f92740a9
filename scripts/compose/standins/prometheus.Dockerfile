# Stand-in for prom/prometheus where no registry is reachable: Debian 12's Prometheus (2.42, its classic web
# pages only) run as the official image runs it: /bin/prometheus as the entrypoint, the Compose file's command
# its flags (/bin is /usr/bin on Debian 12), as nobody, its data in /prometheus; with wget for the healthcheck,
# as the official image has.
ARG BASE=localhost/shop-debian-minbase:bookworm
FROM ${BASE}
LABEL org.shop-platform.standin="prom/prometheus"
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
    && apt-get update \
    && apt-get install -y --no-install-recommends prometheus wget \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
    && install -d -o nobody -g nogroup /prometheus /etc/prometheus
USER nobody
WORKDIR /prometheus
VOLUME /prometheus
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
