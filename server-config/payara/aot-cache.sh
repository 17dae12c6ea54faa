#!/usr/bin/env bash
# Makes an ahead-of-time cache for Payara Micro with Sluice (issue 22; JDK 25 or newer: JEP 483, 514 and 515) from a
# training run, and prints the command that uses it. The training run is the node's own start: Payara Micro boots with
# -XX:AOTCacheOutput, deploys the WAR, and its warm-up (io.sluice.warmup, started by the first /health/ready probe)
# drives the streaming path; once /health/ready is UP the script stops it with SIGTERM, and the JVM writes the cache
# on its way out.
#
#   server-config/payara/aot-cache.sh [CACHE]        # default target/sluice-payara.aot
#
# Environment: JAVA (a JDK 25 or newer java; default: java on the PATH), MICRO_JAR (default: the payara-micro jar of
# pom.xml's payara.version in ~/.m2, or target/payara-micro.jar), WAR (default target/sluice.war), PORT (the training
# run's HTTP port, default 18380). The training run uses the simulated model unless SLUICE_UPSTREAM_URL is set: the
# warm-up never calls it anyway (it has its own upstream in the process), and no database other than an H2 file in a
# temporary directory is touched unless SLUICE_DB_URL is set.
#
# The cache holds the classes of the JDK and of the payara-micro jar's launcher, linked, with their method profiles;
# Payara's modules, Jersey, Weld, EclipseLink and Sluice's own classes are loaded by Payara's class loaders, which a
# JDK 25 cache does not cover. It is valid only for the same JDK build and the same payara-micro jar path: make it
# again after upgrading either. A JVM given a cache that does not match starts without it (with a warning).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
cache=$(readlink -f "${1:-target/sluice-payara.aot}")
java=${JAVA:-java}
port=${PORT:-18380}
war=$(readlink -f "${WAR:-target/sluice.war}")
version=$(sed -n 's:.*<payara.version>\(.*\)</payara.version>.*:\1:p' pom.xml | head -1)
jar=${MICRO_JAR:-$HOME/.m2/repository/fish/payara/extras/payara-micro/$version/payara-micro-$version.jar}
[[ -f $jar ]] || jar=$root/target/payara-micro.jar
jar=$(readlink -f "$jar")

feature=$("$java" -XX:+PrintFlagsFinal -version 2>/dev/null | grep -c 'AOTCacheOutput' || true)
if [[ $feature == 0 ]]; then
  echo "$java has no -XX:AOTCacheOutput: a JDK 25 or newer is needed (JAVA=/path/to/jdk-25/bin/java)" >&2
  exit 2
fi
[[ -f $war ]] || { echo "no $war: build it first (mvn -DskipTests package)" >&2; exit 2; }
[[ -f $jar ]] || { echo "no payara-micro jar at $jar (set MICRO_JAR)" >&2; exit 2; }
if ss -Hltn "sport = :$port" | grep -q .; then echo "port $port is in use (set PORT)" >&2; exit 2; fi

work=$(mktemp -d /tmp/sluice-aot.XXXXXX)
pid=
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$(dirname "$cache")"
rm -f "$cache"

echo "training run: $java -XX:AOTCacheOutput=$cache -jar $jar --deploy $war (log $work/training.log)"
# env -C: an H2 file, if any, lands in the temporary directory; env execs java, so $! is the JVM's pid
env -C "$work" "$java" -XX:AOTCacheOutput="$cache" -Djdk.httpclient.bufsize=4096 -jar "$jar" --deploy "$war" \
    --contextroot / --nohazelcast --port "$port" --rootdir "$work/payara" \
    --prebootcommandfile "$root/server-config/payara/http-listener.asadmin" > "$work/training.log" 2>&1 &
pid=$!
ready=0
for _ in $(seq 600); do
  kill -0 "$pid" 2>/dev/null || break
  # the first probe that reaches the application starts its warm-up; 200 once it is done
  if curl -sf -o /dev/null "http://127.0.0.1:$port/health/ready"; then ready=1; break; fi
  sleep 0.5
done
if ((!ready)); then
  echo "the training run did not become ready; the end of its log:" >&2
  tail -30 "$work/training.log" >&2
  exit 1
fi
curl -s "http://127.0.0.1:$port/health/ready"; echo
echo "stopping the training run (SIGTERM); the JVM writes the cache as it exits"
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=
grep -h 'AOTCache creation is complete\|Error\|error' "$work/training.log" | tail -3 || true
if [[ ! -s $cache ]]; then
  echo "no cache was written; the end of the training log:" >&2
  tail -30 "$work/training.log" >&2
  exit 1
fi
echo
echo "cache: $cache ($(du -h "$cache" | cut -f1))"
echo "run with it (same JDK, same payara-micro jar path):"
echo "  $java -XX:AOTCache=$cache -Djdk.httpclient.bufsize=4096 -jar $jar --deploy $war --contextroot / --nohazelcast \\"
echo "    --prebootcommandfile server-config/payara/http-listener.asadmin"
