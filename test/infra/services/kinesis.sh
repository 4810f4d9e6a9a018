# shellcheck shell=bash
# Kinesis-compatible server: kinesis-local (kinesis-mock compiled to JS, a devDependency in package.json),
# plain HTTP/1.1 on 127.0.0.1:4568 (TLS on 4567; + PLEXUS_PORT_OFFSET), data persisted under $PLEXUS_STATE_DIR/kinesis/data.
# Clients must use NodeHttpHandler from @smithy/node-http-handler: the SDK's default HTTP/2 handler fails
# against it with "Protocol error".

KINESIS_PKG=$REPO_DIR/node_modules/kinesis-local
KINESIS_PORT=$(port 4568)
KINESIS_TLS_PORT=$(port 4567)

kinesis_install() {
  [ -f "$KINESIS_PKG/main.js" ] || {
    log "kinesis: $KINESIS_PKG is missing: run 'npm ci' (kinesis-local is a devDependency)"
    return 1
  }
}

kinesis_ready() { port_open "$KINESIS_PORT" && node_check kinesis "http://127.0.0.1:$KINESIS_PORT"; }

kinesis_start() {
  local d pidfile
  d=$(svc_dir kinesis)
  pidfile=$d/pid
  if ! already_up "kinesis" "$pidfile" kinesis_ready; then
    stop_pidfile "$pidfile" 20
    local p
    for p in "$KINESIS_PORT" "$KINESIS_TLS_PORT"; do
      port_open "$p" && {
        log "kinesis: 127.0.0.1:$p is taken by another process"
        return 1
      }
    done
    mkdir -p "$d/data"
    # kinesis-local listens on 0.0.0.0 (hard-coded): the preload rewrites that to 127.0.0.1.
    (
      cd "$d" || exit 1
      export KINESIS_MOCK_PLAIN_PORT=$KINESIS_PORT KINESIS_MOCK_TLS_PORT=$KINESIS_TLS_PORT \
        KINESIS_MOCK_CERT_PATH=$KINESIS_PKG/server.json AWS_ACCOUNT_ID=000000000000 AWS_REGION=us-east-1 \
        SHOULD_PERSIST_DATA=true PERSIST_PATH=$d/data PERSIST_INTERVAL=1s LOG_LEVEL=WARN \
        CREATE_STREAM_DURATION=200ms DELETE_STREAM_DURATION=200ms REGISTER_STREAM_CONSUMER_DURATION=200ms \
        DEREGISTER_STREAM_CONSUMER_DURATION=200ms UPDATE_SHARD_COUNT_DURATION=200ms
      start_bg "$pidfile" "$(svc_log kinesis)" node --import "$INFRA_DIR/tools/loopback-only.mjs" \
        "$KINESIS_PKG/main.js"
    ) || return 1
    wait_until "kinesis (kinesis-local on $KINESIS_PORT)" "$pidfile" "$PLEXUS_START_TIMEOUT" kinesis_ready ||
      return 1
  fi
  write_env_fragment kinesis "KINESIS_ENDPOINT=http://127.0.0.1:$KINESIS_PORT"
}

kinesis_stop() { stop_pidfile "$(svc_dir kinesis)/pid" 20; }

kinesis_logs() { svc_log kinesis; }
