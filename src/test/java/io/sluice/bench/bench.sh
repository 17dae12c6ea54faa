#!/usr/bin/env bash
# Issue 9's benchmark in one command: builds the WAR once, then for each database starts Payara Micro itself
# (H2 in a fresh temp dir; PostgreSQL in a database sluice_bench that it creates and drops), runs the warm-up and
# the scenarios of LoadBench.java against it, stops it, and prints the issue's table (measure | target | H2 |
# PostgreSQL). Results: target/bench/results.json (appended), target/bench/table.md, target/bench/chart.svg; logs
# in target/bench/logs/. See README.md beside this file.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: src/test/java/io/sluice/bench/bench.sh [options] [-- LoadBench options for every scenario]
  --db LIST          databases, comma-separated: h2,postgresql (default both)
  --rows LIST        load rows, streams per row (default 1000,5000,10000)
  --scenarios LIST   load,sequential,heap,relay,cold (default the first four); cold runs first, on the fresh node
  --quick            the same as --db h2 --rows 1000 --scenarios load (warm-up included)
  --cold             the same as --rows 1000 --scenarios cold --no-warmup: the 1,000 row twice on a node that has
                     just become ready (issue 22), and the time from process start to /health/ready
  --no-warmup        skip the warm-up (a cold server's JIT compilation is then measured as latency)
  --no-build         use the target/sluice.war that is there
  --port P           Payara Micro's HTTP port (default 8080)
  --upstream-port P  the fake upstream's port (default 18090)
  --results FILE     results JSON (default target/bench/results.json)
  -h, --help
Environment: SLUICE_BENCH_JVM_OPTS (server JVM options), SLUICE_BENCH_MICRO_OPTS (more Payara Micro options),
SLUICE_BENCH_JAVA (the server's java command, default java), SLUICE_BENCH_WAR (the WAR to deploy, default
target/sluice.war; with --no-build, to compare two builds), SLUICE_BENCH_PG_URL (default
jdbc:postgresql://127.0.0.1:5432), SLUICE_BENCH_PG_USER (default postgres), SLUICE_BENCH_PG_DB (the database it creates
and drops, default sluice_bench).
Every other SLUICE_* variable is passed to the server as it is (SLUICE_DB_* are set per database).
EOF
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../../../../.." && pwd)
cd "$root"

dbs=h2,postgresql
rows=1000,5000,10000
scenarios=load,sequential,heap,relay
warmup=1
build=1
port=8080
upstream_port=18090
results=target/bench/results.json
pass=()
while (($#)); do
  case "$1" in
    --db) dbs=$2; shift 2 ;;
    --rows) rows=$2; shift 2 ;;
    --scenarios) scenarios=$2; shift 2 ;;
    --quick) dbs=h2; rows=1000; scenarios=load; shift ;;
    --cold) rows=1000; scenarios=cold; warmup=0; shift ;;
    --no-warmup) warmup=0; shift ;;
    --no-build) build=0; shift ;;
    --port) port=$2; shift 2 ;;
    --upstream-port) upstream_port=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; pass=("$@"); break ;;
    *) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
has() { [[ ",$1," == *",$2,"* ]]; }
for d in ${dbs//,/ }; do
  [[ $d == h2 || $d == postgresql ]] || { echo "--db: h2 or postgresql, not $d" >&2; exit 2; }
done
for s in ${scenarios//,/ }; do
  [[ $s =~ ^(load|sequential|heap|relay|cold)$ ]] || { echo "--scenarios: load, sequential, heap, relay or cold, not $s" >&2; exit 2; }
done

bench_dir=target/bench
logs=$bench_dir/logs
mkdir -p "$logs"
pg_url=${SLUICE_BENCH_PG_URL:-jdbc:postgresql://127.0.0.1:5432}
pg_user=${SLUICE_BENCH_PG_USER:-postgres}
pg_host=$(sed -E 's#jdbc:postgresql://([^:/]+).*#\1#' <<<"$pg_url")
pg_port=$(sed -E 's#jdbc:postgresql://[^:/]+:?([0-9]*).*#\1#' <<<"$pg_url"); pg_port=${pg_port:-5432}
pg_db=${SLUICE_BENCH_PG_DB:-sluice_bench}
[[ $pg_db =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "SLUICE_BENCH_PG_DB: a plain lower-case name, not $pg_db" >&2; exit 2; }
server_java=${SLUICE_BENCH_JAVA:-java}
export PGOPTIONS=--client-min-messages=warning
out_dir=$(dirname "$results")

# ---------------------------------------------------------------- clean-up: only what this script started
server_pid=
upstream_pid=
workdir=
pg_created=0
stop_server() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$server_pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=
}
drop_pg() {
  if ((pg_created)); then
    psql -q -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -c "DROP DATABASE IF EXISTS $pg_db" >/dev/null || true
    pg_created=0
  fi
}
cleanup() {
  stop_server
  drop_pg
  if [[ -n $upstream_pid ]] && kill -0 "$upstream_pid" 2>/dev/null; then
    kill "$upstream_pid" 2>/dev/null || true
    wait "$upstream_pid" 2>/dev/null || true
  fi
  [[ -n $workdir && -d $workdir ]] && rm -rf "$workdir"
  workdir=
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- checks
for p in "$port" "$upstream_port"; do
  if ss -Hltn "sport = :$p" | grep -q .; then
    echo "port $p is in use:" >&2; ss -Hltnp "sport = :$p" >&2
    echo "pick free ones with --port and --upstream-port" >&2
    exit 2
  fi
done
if has "$dbs" postgresql && ! command -v psql >/dev/null; then
  echo "psql is needed for the PostgreSQL run (apt-get install postgresql-client)" >&2; exit 2
fi

# 10,000 streams hold ~20,500 descriptors in the server (a client socket and an upstream socket per stream, plus
# ~500 of Payara's own). Raise the limit as far as the hard limit allows (root may raise the hard limit itself
# unless the container withholds CAP_SYS_RESOURCE).
need_fds=20500
ulimit -Hn 65536 2>/dev/null || true
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
fd_limit=$(ulimit -Sn)
echo "open files limit: soft $(ulimit -Sn), hard $(ulimit -Hn)"
if [[ $fd_limit != unlimited ]] && ((fd_limit < need_fds)) && has "$rows" 10000; then
  cat >&2 <<EOF
WARNING: the server may open only $fd_limit files, and 10,000 streams need about $need_fds. Near $((fd_limit / 2 - 250))
streams its accept() and its upstream connects fail with EMFILE ("Too many open files"): those requests show in
the 10,000 row as dropped, timed out or error events, not as 503s, and the row's cell notes the limit. To measure
the row, raise the hard limit outside this script (docker run --ulimit nofile=65536, systemd LimitNOFILE=65536,
or /etc/security/limits.conf), or keep the server's admission limit below $((fd_limit / 2 - 250)) streams.
EOF
fi

# ---------------------------------------------------------------- build: the WAR and the bench, once
if ((build)); then
  echo "building target/sluice.war (mvn -q -DskipTests package)"
  mvn -B -q -DskipTests package
fi
war=$(readlink -f "${SLUICE_BENCH_WAR:-target/sluice.war}")
[[ -f $war ]] || { echo "no WAR $war (run without --no-build)" >&2; exit 2; }
mkdir -p "$bench_dir/classes"
javac -nowarn -d "$bench_dir/classes" "$here/LoadBench.java"
bench=(java -cp "$bench_dir/classes" io.sluice.bench.LoadBench)

payara_version=$(sed -n 's:.*<payara.version>\(.*\)</payara.version>.*:\1:p' pom.xml | head -1)
jar=$HOME/.m2/repository/fish/payara/extras/payara-micro/$payara_version/payara-micro-$payara_version.jar
if [[ ! -f $jar ]]; then
  jar=$(ls "$root"/target/payara-micro*.jar 2>/dev/null | head -1 || true)
fi
if [[ -z $jar || ! -f $jar ]]; then
  echo "fetching payara-micro $payara_version from Maven Central"
  mvn -B -q dependency:copy -Dartifact="fish.payara.extras:payara-micro:$payara_version" -DoutputDirectory="$bench_dir"
  jar=$root/$bench_dir/payara-micro-$payara_version.jar
fi

# ---------------------------------------------------------------- the server's tuning, as the project configures it
# 1. the payara-micro-maven-plugin's <commandLineOptions> and <javaCommandLineOptions> in pom.xml (the README's run
#    command uses them), with ${project.basedir}/${basedir} resolved; --port, --deploy, --contextroot and
#    --nohazelcast are set here.
# 2. files in server-config/payara/: pre-boot*/post-boot* (asadmin command files), *jvm.options (one JVM option
#    a line), micro.options (one Payara Micro option a line); # starts a comment.
# 3. SLUICE_BENCH_JVM_OPTS and SLUICE_BENCH_MICRO_OPTS.
pom_options() { # $1 = element name; prints one option a line: "key value", "key" or "value"
  tr -d '\n\r' < pom.xml | grep -o "<$1>.*</$1>" | head -1 | sed 's:</option>:</option>\n:g' | while read -r opt; do
    key=$(sed -n 's:.*<key>\(.*\)</key>.*:\1:p' <<<"$opt")
    value=$(sed -n 's:.*<value>\(.*\)</value>.*:\1:p' <<<"$opt")
    [[ -z $key && -z $value ]] && continue
    line="$key${key:+${value:+ }}$value"
    line=${line//\$\{project.basedir\}/$root}
    line=${line//\$\{basedir\}/$root}
    echo "$line"
  done
}
micro_opts=()
jvm_opts=()
while read -r key value; do
  [[ -z $key ]] && continue
  case "$key" in
    --port|--deploy|--contextroot|--contextRoot|--nohazelcast|--noHazelcast|--rootdir|--rootDir) continue ;;
  esac
  if [[ "$key $value" == *'${'* ]]; then echo "pom.xml: skipping unresolved option $key $value" >&2; continue; fi
  micro_opts+=("$key"); [[ -n $value ]] && micro_opts+=("$value")
done < <(pom_options commandLineOptions)
while read -r key value; do
  [[ -z $key ]] && continue
  if [[ "$key $value" == *'${'* ]]; then echo "pom.xml: skipping unresolved JVM option $key $value" >&2; continue; fi
  if [[ -n $value ]]; then jvm_opts+=("$key=$value"); else jvm_opts+=("$key"); fi
done < <(pom_options javaCommandLineOptions)
shopt -s nullglob
for f in server-config/payara/pre-boot* server-config/payara/post-boot*; do
  flag=--postbootcommandfile; [[ $(basename "$f") == pre-boot* ]] && flag=--prebootcommandfile
  [[ " ${micro_opts[*]} " == *" $flag "* ]] || micro_opts+=("$flag" "$root/$f")
done
if [[ " ${micro_opts[*]} " != *" --prebootcommandfile "* && " ${micro_opts[*]} " != *" --postbootcommandfile "* ]]; then
  for f in server-config/payara/*.asadmin; do # asadmin "set" lines, as the README's run would apply them
    micro_opts+=(--prebootcommandfile "$root/$f"); break
  done
fi
for f in server-config/payara/*jvm.options; do
  while read -r l; do [[ -z $l || $l == \#* ]] || jvm_opts+=("$l"); done < "$f"
done
for f in server-config/payara/micro.options; do
  [[ -f $f ]] || continue
  while read -r l; do
    if [[ -n $l && $l != \#* ]]; then read -ra words <<<"$l"; micro_opts+=("${words[@]}"); fi
  done < "$f"
done
shopt -u nullglob
read -ra extra_jvm <<<"${SLUICE_BENCH_JVM_OPTS:-}"
read -ra extra_micro <<<"${SLUICE_BENCH_MICRO_OPTS:-}"
jvm_opts+=("${extra_jvm[@]}")
micro_opts+=("${extra_micro[@]}")
echo "server: $server_java ${jvm_opts[*]:+${jvm_opts[*]} }-jar $jar --deploy $war --contextroot / --nohazelcast --port $port ${micro_opts[*]}"

# ---------------------------------------------------------------- the fake upstream: one child JVM for every run
"${bench[@]}" --upstream-only --upstream-port "$upstream_port" > "$logs/upstream.log" 2>&1 &
upstream_pid=$!
for _ in $(seq 100); do grep -q READY "$logs/upstream.log" 2>/dev/null && break; sleep 0.2; done
grep -q READY "$logs/upstream.log" || { echo "the fake upstream did not start:" >&2; cat "$logs/upstream.log" >&2; exit 2; }
echo "fake upstream: pid $upstream_pid on 127.0.0.1:$upstream_port"

# ---------------------------------------------------------------- one server per database
run_ids=()
for db in ${dbs//,/ }; do
  workdir=$(mktemp -d "/tmp/sluice-bench-$db.XXXXXX")
  env_db=(-u SLUICE_DB_URL -u SLUICE_DB_USER -u SLUICE_DB_PASSWORD)
  if [[ $db == postgresql ]]; then
    psql -q -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -c "DROP DATABASE IF EXISTS $pg_db" >/dev/null
    psql -q -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -c "CREATE DATABASE $pg_db" >/dev/null
    pg_created=1
    env_db+=("SLUICE_DB_URL=$pg_url/$pg_db" "SLUICE_DB_USER=$pg_user" "SLUICE_DB_PASSWORD=${SLUICE_BENCH_PG_PASSWORD:-}")
  fi
  log=$logs/server-$db.log
  echo
  echo "=== $db: starting Payara Micro on port $port (log $log, work dir $workdir)"
  # env -C: the H2 file lands in $workdir/data; env then execs java, so $! is the server JVM's pid
  # the load client is one address: the per-address rate limits (issue 11) must not throttle it
  start_ns=$(date +%s%N)
  env -C "$workdir" "${env_db[@]}" SLUICE_UPSTREAM_URL="http://127.0.0.1:$upstream_port/v1" \
      SLUICE_STREAMS_PER_MINUTE="${SLUICE_STREAMS_PER_MINUTE:-1000000}" \
      SLUICE_NEW_IDENTITIES_PER_MINUTE="${SLUICE_NEW_IDENTITIES_PER_MINUTE:-1000000}" \
      "$server_java" "${jvm_opts[@]}" -jar "$jar" --deploy "$war" --contextroot / --nohazelcast \
      --port "$port" --rootdir "$workdir/payara" "${micro_opts[@]}" > "$log" 2>&1 &
  server_pid=$!
  # up: GET /api/info answers (the application is deployed); ready: GET /health/ready answers 200, as a load
  # balancer waits for it (issue 22). Both timed from the launch, polled every 0.2 s.
  deployed_ms=
  ready_ms=
  for _ in $(seq 1500); do
    kill -0 "$server_pid" 2>/dev/null || break
    if [[ -z $deployed_ms ]] && curl -sf "http://localhost:$port/api/info" >/dev/null 2>&1; then
      deployed_ms=$((($(date +%s%N) - start_ns) / 1000000))
    fi
    if [[ -n $deployed_ms ]] && curl -sf -o /dev/null "http://localhost:$port/health/ready" 2>/dev/null; then
      ready_ms=$((($(date +%s%N) - start_ns) / 1000000)); break
    fi
    sleep 0.2
  done
  if [[ -z $ready_ms ]]; then
    echo "the server did not become ready within 300 s; the end of $log:" >&2; tail -30 "$log" >&2; exit 2
  fi
  echo "server: the application answered after $deployed_ms ms, /health/ready UP after $ready_ms ms"
  server_fds=$(awk '/Max open files/ {print $4}' "/proc/$server_pid/limits")
  run_id=$(date -u +%Y%m%d-%H%M%S)-$db
  run_ids+=("$run_id")
  echo "server pid $server_pid is up (open files limit $server_fds); run $run_id"
  common=(--base "http://localhost:$port" --pid "$server_pid" --upstream none --upstream-port "$upstream_port"
          --upstream-pid "$upstream_pid" --results "$results" --run-id "$run_id" --database "$db"
          --header-timeout-seconds 120 --meta "payara=$payara_version" --meta "serverFdLimit=$server_fds"
          --meta "jvmOptions=${jvm_opts[*]}" --meta "microOptions=${micro_opts[*]}")
  step() { # runs one LoadBench scenario; a failed scenario does not stop the others
    echo; echo "--- $db: $*"
    local rc=0
    "${bench[@]}" "${common[@]}" "$@" "${pass[@]}" || rc=$?
    if ((rc == 2)); then echo "($db: that step could not run, exit status 2)" >&2; fi
    return 0
  }
  # cold first: it measures the node as it is when it has just become ready
  if has "$scenarios" cold; then
    step --scenario cold --streams 1000 --ramp-seconds 10 --chunks 100 --interval-ms 100 --timeout-seconds 60 \
      --no-settle --ready-ms "$ready_ms" --deployed-ms "$deployed_ms" --quiet
  fi
  if ((warmup)); then step --scenario warmup --quiet; fi
  # heap first: the node must hold fewer ended streams than its cap (SLUICE_MAX_STREAMS), or ended streams are
  # evicted during the measure and the figure comes out too low
  if has "$scenarios" heap; then step --scenario heap --no-probe; fi
  if has "$scenarios" sequential; then step --scenario sequential --no-probe; fi
  if has "$scenarios" load; then
    for n in ${rows//,/ }; do
      timeout=60; ((n > 1000)) && timeout=240
      step --scenario load --streams "$n" --ramp-seconds 10 --chunks 100 --interval-ms 100 --timeout-seconds "$timeout" --no-probe
    done
  fi
  if has "$scenarios" relay; then step --scenario relay --no-probe; fi
  echo "=== $db: stopping the server (pid $server_pid)"
  stop_server
  drop_pg
  rm -rf "$workdir"; workdir=
done

echo
echo "=== issue 9: the table"
ids=$(IFS=,; echo "${run_ids[*]}")
"${bench[@]}" --report --results "$results" --runs "$ids" --chart "$out_dir/chart.svg" --table-out "$out_dir/table.md"
