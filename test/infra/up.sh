#!/usr/bin/env bash
# Installs (when missing), starts and waits for the real services of the integration tests, on 127.0.0.1
# only, then writes test/.services.env.
#
#   test/infra/up.sh                 # every service: rabbitmq cassandra kafka kinesis k8s s3 sftp helm
#   test/infra/up.sh s3 kafka        # a subset (aliases: minio=s3, kube=k8s)
#   test/infra/up.sh --install-only  # build/install what is missing, start nothing
#
# Builds are cached in ${PLEXUS_CACHE_DIR:-$HOME/.cache/plexus}, state and logs live in
# ${PLEXUS_STATE_DIR:-/tmp/plexus-it}/<service>/. Starting a running service again is a no-op.
# Exits non-zero (after printing the end of the failed service's logs) when any service fails to start.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for f in "$INFRA_DIR"/services/*.sh; do
  # shellcheck source=/dev/null
  . "$f"
done

install_only=false
selected=()
for a in "$@"; do
  if [ "$a" = --install-only ]; then
    install_only=true
    continue
  fi
  s=$(canonical_service "$a") || die "unknown service '$a' (known: ${ALL_SERVICES[*]}; aliases minio, kube, ssh)"
  selected+=("$s")
done
[ ${#selected[@]} -gt 0 ] || selected=("${ALL_SERVICES[@]}")

ensure_prereqs
# The readiness probes use the repository's client libraries (kinesis-local too is an npm package).
$install_only || [ -d "$REPO_DIR/node_modules" ] || die "node_modules is missing: run 'npm ci' in $REPO_DIR first"

# One service: install what is missing, start it, wait for it (serialised per service between
# concurrent up.sh runs). Runs in a background subshell.
up_one() {
  local svc=$1
  "${svc}_install" || {
    log "$svc: installation failed"
    return 1
  }
  $install_only || "${svc}_start"
}
bring_up() {
  mkdir -p "$(svc_dir "$1")"
  with_lock "$(svc_dir "$1")/.up.lock" up_one "$1"
}

t0=$SECONDS
log "starting: ${selected[*]} (cache $PLEXUS_CACHE_DIR, state $PLEXUS_STATE_DIR)"
declare -A pids=()
for svc in "${selected[@]}"; do
  bring_up "$svc" &
  pids[$svc]=$!
done

failed=()
for svc in "${selected[@]}"; do
  if ! wait "${pids[$svc]}"; then
    failed+=("$svc")
  fi
done

$install_only || write_services_env

if [ ${#failed[@]} -gt 0 ]; then
  for svc in "${failed[@]}"; do
    log "FAILED: $svc"
    for f in $("${svc}_logs"); do tail_log "$f" 50; done
  done
  log "services that failed to start: ${failed[*]} (after $((SECONDS - t0))s)"
  exit 1
fi
if $install_only; then
  log "all installed in $((SECONDS - t0))s: ${selected[*]}"
else
  log "all up in $((SECONDS - t0))s: ${selected[*]} -> $SERVICES_ENV_FILE"
fi
