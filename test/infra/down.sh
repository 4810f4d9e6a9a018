#!/usr/bin/env bash
# Stops the services test/infra/up.sh started (by their recorded PIDs), all of them or the named ones,
# and rewrites test/.services.env without them. Data dirs and logs stay in $PLEXUS_STATE_DIR; pass
# --wipe to delete the stopped services' state as well.
#
#   test/infra/down.sh              # everything
#   test/infra/down.sh s3           # only the S3 server (fault tests restart it with up.sh s3)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for f in "$INFRA_DIR"/services/*.sh; do
  # shellcheck source=/dev/null
  . "$f"
done

wipe=false
selected=()
for a in "$@"; do
  if [ "$a" = --wipe ]; then
    wipe=true
    continue
  fi
  s=$(canonical_service "$a") || die "unknown service '$a' (known: ${ALL_SERVICES[*]})"
  selected+=("$s")
done
[ ${#selected[@]} -gt 0 ] || selected=("${ALL_SERVICES[@]}")

rc=0
for ((i = ${#selected[@]} - 1; i >= 0; i--)); do
  svc=${selected[$i]}
  [ -d "$(svc_dir "$svc")" ] || continue
  log "stopping $svc"
  "${svc}_stop" || {
    log "could not stop $svc"
    rc=1
  }
  rm -f "$(svc_dir "$svc")/env"
  if $wipe; then rm -rf "$(svc_dir "$svc")"; fi
done
write_services_env
exit $rc
