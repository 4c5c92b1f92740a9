#!/bin/sh
# The official nginx image's 20-envsubst-on-templates.sh: before nginx starts, every
# $NGINX_ENVSUBST_TEMPLATE_DIR/**/*.template becomes $NGINX_ENVSUBST_OUTPUT_DIR/<same path, less the
# suffix>, with only the variables defined in the environment substituted (nginx's own $variables stay).
set -eu
if [ "${1:-}" = nginx ] || [ "${1:-}" = nginx-debug ]; then
    # And its 15-local-resolvers.envsh: the container's resolvers, for a template that looks names up when a
    # request comes (nginx/observability.conf.template).
    if [ -n "${NGINX_ENTRYPOINT_LOCAL_RESOLVERS:-}" ]; then
        NGINX_LOCAL_RESOLVERS=$(awk 'BEGIN { ORS = " " } $1 == "nameserver" { print $2 }' /etc/resolv.conf)
        export NGINX_LOCAL_RESOLVERS
    fi
    template_dir=${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}
    output_dir=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}
    suffix=${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}
    defined=$(awk 'END { for (name in ENVIRON) if (name ~ /^[A-Za-z_][A-Za-z0-9_]*$/) printf "${%s} ", name }' </dev/null)
    if [ -d "$template_dir" ]; then
        find "$template_dir" -follow -type f -name "*$suffix" -print | while read -r template; do
            relative=${template#"$template_dir/"}
            output=$output_dir/${relative%"$suffix"}
            mkdir -p "$(dirname "$output")"
            echo "$0: $template -> $output"
            envsubst "$defined" <"$template" >"$output"
        done
    fi
fi
exec "$@"
