# Stand-in for nginx:1.27 where no registry is reachable: Debian 12's nginx with the official image's
# template step (nginx-entrypoint.sh: /etc/nginx/templates/*.template through envsubst into conf.d), logs on
# the container's output, and curl for checks.
ARG BASE=localhost/shop-debian-minbase:bookworm
FROM ${BASE}
LABEL org.shop-platform.standin="nginx:1.27"
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
    && apt-get update \
    && apt-get install -y --no-install-recommends nginx gettext-base curl ca-certificates \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
    && rm -f /etc/nginx/sites-enabled/default \
    && ln -sf /dev/stdout /var/log/nginx/access.log \
    && ln -sf /dev/stderr /var/log/nginx/error.log \
    && mkdir -p /etc/nginx/templates /var/cache/nginx
COPY nginx-entrypoint.sh /docker-entrypoint.sh
ENTRYPOINT ["/docker-entrypoint.sh"]
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
