# Stand-in for debian:bookworm-slim where no registry is reachable (stack/exporter.Dockerfile starts from it):
# the same Debian 12 minimal base the other stand-ins are built on, with apt's sources of the mirror it came from.
ARG BASE=localhost/shop-debian-minbase:bookworm
FROM ${BASE}
LABEL org.shop-platform.standin="debian:bookworm-slim"
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
CMD ["bash"]
