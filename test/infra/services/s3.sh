# shellcheck shell=bash
# S3-compatible server: MinIO built with Go from the module proxy (test/infra/build/minio/go.mod, pinned),
# single drive under $PLEXUS_STATE_DIR/s3/data, API on 127.0.0.1:9000, console off. It can be stopped and
# restarted by itself (test/infra/down.sh s3; test/infra/up.sh s3); the data survives a restart.

MINIO_VERSION=$(go_mod_version minio github.com/minio/minio)
MINIO_VERSION=${MINIO_VERSION#v}
MINIO_BIN=$PLEXUS_CACHE_DIR/minio-$MINIO_VERSION/minio
S3_PORT=$(port 9000)
S3_ACCESS_KEY=plexus-it
S3_SECRET_KEY=plexus-it-secret

s3_build() { go_build_tool minio "$MINIO_BIN" github.com/minio/minio -ldflags "-s -w" || return 1; }

s3_install() {
  [ -x "$MINIO_BIN" ] && return 0
  with_lock "$PLEXUS_CACHE_DIR/.go-build.lock" s3_build >>"$(svc_dir s3)/build.log" 2>&1 || {
    tail_log "$(svc_dir s3)/build.log"
    return 1
  }
}

s3_ready() {
  curl -sf "http://127.0.0.1:$S3_PORT/minio/health/ready" >/dev/null &&
    S3_ACCESS_KEY_ID=$S3_ACCESS_KEY S3_SECRET_ACCESS_KEY=$S3_SECRET_KEY node_check s3 "http://127.0.0.1:$S3_PORT"
}

s3_start() {
  local d pidfile
  d=$(svc_dir s3)
  pidfile=$d/pid
  if ! already_up "s3" "$pidfile" s3_ready; then
    stop_pidfile "$pidfile" 30
    port_open "$S3_PORT" && {
      log "s3: 127.0.0.1:$S3_PORT is taken by another process"
      return 1
    }
    mkdir -p "$d/data"
    MINIO_ROOT_USER=$S3_ACCESS_KEY MINIO_ROOT_PASSWORD=$S3_SECRET_KEY MINIO_UPDATE=off MINIO_BROWSER=off \
      MINIO_REGION=us-east-1 start_bg "$pidfile" "$(svc_log s3)" "$MINIO_BIN" server "$d/data" \
      --address "127.0.0.1:$S3_PORT" --console-address 127.0.0.1:0 --quiet --anonymous
    wait_until "s3 (MinIO on $S3_PORT)" "$pidfile" "$PLEXUS_START_TIMEOUT" s3_ready || return 1
  fi
  write_env_fragment s3 \
    "S3_ENDPOINT=http://127.0.0.1:$S3_PORT" \
    "S3_ACCESS_KEY_ID=$S3_ACCESS_KEY" \
    "S3_SECRET_ACCESS_KEY=$S3_SECRET_KEY" \
    "S3_REGION=us-east-1" \
    "S3_FORCE_PATH_STYLE=true"
}

s3_stop() { stop_pidfile "$(svc_dir s3)/pid" 30; }

s3_logs() { echo "$(svc_dir s3)/build.log $(svc_log s3)"; }
