#!/bin/sh
# Tomcat's JVM options for Sluice: copy to $CATALINA_BASE/bin/setenv.sh (catalina.sh sources it).
# jdk.httpclient.bufsize: the upstream client's read buffer (4 KiB instead of 16 KiB per stream), as on Payara
# (server-config/payara/README.md). Settings of Sluice itself (SLUICE_DB_URL, SLUICE_UPSTREAM_URL, ...) are
# environment variables of the same process, or -Dsluice.* system properties here.
CATALINA_OPTS="$CATALINA_OPTS -Djdk.httpclient.bufsize=4096"
export CATALINA_OPTS
