#!/usr/bin/env bash
# Deploys target/sluice.war to a running Payara Server 6 domain against PostgreSQL.
# The WAR carries its own data source, Flyway migrations and JDBC drivers: the server only needs the
# settings below, stored as domain-level MicroProfile Config properties (environment variables of the
# server process work as well: SLUICE_DB_URL, ...).
#
# Usage: SLUICE_DB_URL=jdbc:postgresql://db:5432/sluice SLUICE_DB_USER=sluice SLUICE_DB_PASSWORD=... \
#        SLUICE_UPSTREAM_URL=https://api.openai.com/v1 SLUICE_UPSTREAM_API_KEY=sk-... \
#        server-config/payara/deploy.sh [path/to/asadmin]
set -euo pipefail
ASADMIN=${1:-asadmin}
WAR=${WAR:-target/sluice.war}

set_property() { # name value; skipped when the value is empty
  [ -n "$2" ] || return 0
  "$ASADMIN" set-config-property --source=domain --propertyName="$1" --propertyValue="$2"
}

set_property sluice.db.url "${SLUICE_DB_URL:?set SLUICE_DB_URL to the PostgreSQL JDBC URL}"
set_property sluice.db.user "${SLUICE_DB_USER:-}"
set_property sluice.db.password "${SLUICE_DB_PASSWORD:-}"
set_property sluice.upstream.url "${SLUICE_UPSTREAM_URL:-}"
set_property sluice.upstream.api.key "${SLUICE_UPSTREAM_API_KEY:-}"
set_property sluice.upstream.model "${SLUICE_UPSTREAM_MODEL:-}"
set_property sluice.heartbeat.seconds "${SLUICE_HEARTBEAT_SECONDS:-}"

# the HTTP listener's tuning, the same lines Payara Micro reads with --prebootcommandfile
grep -v -e '^#' -e '^[[:space:]]*$' "$(dirname "$0")/http-listener.asadmin" | while read -r command; do
  # shellcheck disable=SC2086 # each line is an asadmin subcommand and its arguments
  "$ASADMIN" $command
done

"$ASADMIN" deploy --force=true --contextroot / --name sluice "$WAR"
