# shellcheck shell=bash
# Shared helpers of the integration-test harness (sourced by up.sh, down.sh and services/*.sh).
#
# Layout:
#   cache (builds and downloads, outside the repository, keyed by version):
#     ${PLEXUS_CACHE_DIR:-$HOME/.cache/plexus}/<tool>-<version>/
#   state (data dirs, logs, pids), one directory per service:
#     ${PLEXUS_STATE_DIR:-/tmp/plexus-it}/<service>/{pid,env,<service>.log,...}

INFRA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$INFRA_DIR/../.." && pwd)
PLEXUS_CACHE_DIR=${PLEXUS_CACHE_DIR:-$HOME/.cache/plexus}
PLEXUS_STATE_DIR=${PLEXUS_STATE_DIR:-/tmp/plexus-it}
SERVICES_ENV_FILE="$REPO_DIR/test/.services.env"
JAVA17_HOME=${PLEXUS_JAVA17_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}
# Added to every port of the harness (default 0: the standard ports in docs/testing.md), so a second set of
# services (e.g. a local run of .ci/run) can run beside a developer's; use a separate PLEXUS_STATE_DIR too.
PLEXUS_PORT_OFFSET=${PLEXUS_PORT_OFFSET:-0}
# Seconds to wait for one service to become ready once started.
PLEXUS_START_TIMEOUT=${PLEXUS_START_TIMEOUT:-180}

# Every service the harness knows, in start order (helm is a tool, built only).
ALL_SERVICES=(rabbitmq cassandra kafka kinesis k8s s3 sftp helm)

# Go builds: never fetch a toolchain, never use cgo, take the module versions pinned in go.sum.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly

mkdir -p "$PLEXUS_CACHE_DIR" "$PLEXUS_STATE_DIR"

log() { printf '[infra %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

# Canonical service name for a user-given one (aliases: minio -> s3, kube/kubernetes -> k8s, ssh -> sftp).
canonical_service() {
  case "$1" in
    rabbitmq | rabbit | amqp) echo rabbitmq ;;
    cassandra | cql) echo cassandra ;;
    kafka) echo kafka ;;
    kinesis) echo kinesis ;;
    k8s | kube | kubernetes | kube-apiserver | etcd) echo k8s ;;
    s3 | minio) echo s3 ;;
    sftp | ssh | sshd) echo sftp ;;
    helm) echo helm ;;
    *) return 1 ;;
  esac
}

svc_dir() { echo "$PLEXUS_STATE_DIR/$1"; }
# A harness port: the standard one plus PLEXUS_PORT_OFFSET.
port() { echo $(($1 + PLEXUS_PORT_OFFSET)); }
svc_log() { echo "$PLEXUS_STATE_DIR/$1/$1.log"; }

# True when 127.0.0.1:<port> accepts TCP connections.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The kernel's start time of a process (field 22 of /proc/<pid>/stat): with the pid it identifies the
# process, so a pid file left over from an earlier boot or run never matches a recycled pid.
proc_start_time() { awk '{ print $22 }' "/proc/$1/stat" 2>/dev/null; }

# pid_alive <pidfile>: the process recorded by start_bg is still running.
pid_alive() {
  local pid start
  [ -s "$1" ] || return 1
  read -r pid start <"$1" || true
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  [ -z "$start" ] || [ "$(proc_start_time "$pid")" = "$start" ]
}

# The pid recorded in a pid file.
pidfile_pid() { awk '{ print $1; exit }' "$1"; }

# start_bg <pidfile> <logfile> <command...>: starts the command in its own session (so it and its
# children can be stopped as one process group) with stdin closed, appending to the log.
start_bg() {
  local pidfile=$1 logfile=$2
  shift 2
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  printf '\n===== %s start: %s\n' "$(date -Is)" "$*" >>"$logfile"
  # fd 9 is the flock of with_lock: the service must not inherit (and hold) it.
  setsid "$@" </dev/null >>"$logfile" 2>&1 9>&- &
  echo "$! $(proc_start_time $!)" >"$pidfile"
}

# stop_pidfile <pidfile> [timeout-seconds]: TERM to the process group started by start_bg, then KILL.
stop_pidfile() {
  local pidfile=$1 timeout=${2:-30} pid i
  if ! pid_alive "$pidfile"; then
    rm -f "$pidfile"
    return 0
  fi
  pid=$(pidfile_pid "$pidfile")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid did not stop within ${timeout}s: KILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  # Children that outlived the leader (same process group) get a KILL too.
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

# wait_until <what> <pidfile> <timeout-seconds> <check command...>: polls the check every second; fails
# early when the process behind the pidfile died.
wait_until() {
  local what=$1 pidfile=$2 timeout=$3 start
  shift 3
  start=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if [ -n "$pidfile" ] && ! pid_alive "$pidfile"; then
      log "$what: the process exited while starting"
      return 1
    fi
    if ((SECONDS - start >= timeout)); then
      log "$what: not ready after ${timeout}s; the last check said:"
      PLEXUS_CHECK_VERBOSE=1 "$@" >&2 || true
      return 1
    fi
    sleep 1
  done
  log "$what: ready after $((SECONDS - start))s"
}

# already_up <what> <pidfile> <ready command...>: true when the process recorded in the pid file runs and is
# ready, or becomes ready within PLEXUS_START_TIMEOUT (another up.sh may have just started it). A recorded
# process that never gets ready is not "up": the caller stops and restarts it.
already_up() {
  local what=$1 pidfile=$2
  shift 2
  pid_alive "$pidfile" || return 1
  if "$@" >/dev/null 2>&1 || wait_until "$what (started earlier)" "$pidfile" "$PLEXUS_START_TIMEOUT" "$@"; then
    log "$what: already running (pid $(pidfile_pid "$pidfile"))"
    return 0
  fi
  return 1
}

# tail_log <file> [lines]: prints the end of a log for a failure report.
tail_log() {
  local file=$1 n=${2:-50}
  [ -f "$file" ] || return 0
  printf '\n----- last %s lines of %s -----\n' "$n" "$file" >&2
  tail -n "$n" "$file" >&2
  printf -- '----- end of %s -----\n\n' "$file" >&2
}

# with_lock <lockfile> <command...>: serialises builds and starts between concurrent up.sh runs.
with_lock() {
  local lockfile=$1
  shift
  mkdir -p "$(dirname "$lockfile")"
  (
    flock 9
    "$@"
  ) 9>"$lockfile"
}

# Go build of one tool module (test/infra/build/<dir>) into <out-file>, skipped when the file exists.
# go_build_tool <build-dir> <out-file> <package> [extra go build args...]
go_build_tool() {
  local dir=$1 out=$2 pkg=$3
  shift 3
  [ -x "$out" ] && return 0
  command -v go >/dev/null || die "go is not installed (needed to build $(basename "$out"))"
  local tmp="$out.tmp.$$"
  mkdir -p "$(dirname "$out")"
  log "building $(basename "$out") ($pkg) -> $out"
  local t0=$SECONDS
  (cd "$INFRA_DIR/build/$dir" && nice go build -trimpath "$@" -o "$tmp" "$pkg") || {
    rm -f "$tmp"
    return 1
  }
  mv -f "$tmp" "$out"
  log "built $(basename "$out") in $((SECONDS - t0))s"
}

# The version a tool module pins: go_mod_version <build-dir> <module>
go_mod_version() {
  awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' \
    "$INFRA_DIR/build/$1/go.mod"
}

# The value of a <property> in a test/infra/build/<dir>/pom.xml: pom_property <dir> <name>
pom_property() {
  sed -n "s:.*<$2>\(.*\)</$2>.*:\1:p" "$INFRA_DIR/build/$1/pom.xml" | head -n1
}

# Copies the runtime dependencies of test/infra/build/<dir>/pom.xml into <out-dir>/lib (skipped when done).
maven_copy_deps() {
  local dir=$1 out=$2
  [ -f "$out/.complete" ] && return 0
  command -v mvn >/dev/null || die "mvn is not installed (needed for $dir)"
  log "resolving $dir jars from Maven Central -> $out/lib"
  local tmp="$out.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp/lib"
  JAVA_HOME=$JAVA17_HOME mvn -q -B -f "$INFRA_DIR/build/$dir/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp/lib" || {
    rm -rf "$tmp"
    return 1
  }
  touch "$tmp/.complete"
  rm -rf "$out"
  mv "$tmp" "$out"
}

# write_env_fragment <service> <KEY=VALUE lines...>: the service's part of test/.services.env.
write_env_fragment() {
  local svc=$1
  shift
  mkdir -p "$(svc_dir "$svc")"
  printf '%s\n' "$@" >"$(svc_dir "$svc")/env.tmp"
  mv -f "$(svc_dir "$svc")/env.tmp" "$(svc_dir "$svc")/env"
}

# Rewrites test/.services.env from the fragments of the services that are up (atomically).
write_services_env() {
  local tmp="$SERVICES_ENV_FILE.tmp.$$" svc
  {
    echo "# Written by test/infra/up.sh at $(date -Is); state in $PLEXUS_STATE_DIR"
    for svc in "${ALL_SERVICES[@]}"; do
      [ -f "$(svc_dir "$svc")/env" ] && cat "$(svc_dir "$svc")/env"
    done
  } >"$tmp"
  mv -f "$tmp" "$SERVICES_ENV_FILE"
}

# apt_install <package...>: installs Debian packages (apt-get update once per run), serialised by a lock.
apt_install() {
  local stamp="$PLEXUS_STATE_DIR/.apt-updated"
  export DEBIAN_FRONTEND=noninteractive
  [ -f "$stamp" ] || { with_lock "$PLEXUS_CACHE_DIR/.apt.lock" apt-get update -qq && touch "$stamp"; } || return 1
  log "apt-get install $*"
  with_lock "$PLEXUS_CACHE_DIR/.apt.lock" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The machine's tools the harness needs (installed from Debian when missing; Go must be the machine's own,
# Debian's is too old for these modules).
ensure_prereqs() {
  local missing=()
  command -v curl >/dev/null || missing+=(curl)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v flock >/dev/null || missing+=(util-linux)
  command -v mvn >/dev/null || missing+=(maven)
  [ -x "$JAVA17_HOME/bin/java" ] || missing+=(openjdk-17-jdk-headless)
  if [ ${#missing[@]} -gt 0 ]; then
    apt_install "${missing[@]}" || die "could not install ${missing[*]} with apt-get"
  fi
  command -v go >/dev/null || die "Go is not installed (the machine's Go >= 1.25 builds kube-apiserver, etcd, helm, MinIO)"
}

# Runs a readiness/client check of test/infra/tools/check.mjs (uses the repository's node_modules).
# Quiet unless PLEXUS_CHECK_VERBOSE is set (wait_until sets it for its last, reported attempt).
node_check() {
  if [ -n "${PLEXUS_CHECK_VERBOSE:-}" ]; then
    (cd "$REPO_DIR" && NODE_NO_WARNINGS=1 node "$INFRA_DIR/tools/check.mjs" "$@")
  else
    (cd "$REPO_DIR" && NODE_NO_WARNINGS=1 node "$INFRA_DIR/tools/check.mjs" "$@") >/dev/null 2>&1
  fi
}
