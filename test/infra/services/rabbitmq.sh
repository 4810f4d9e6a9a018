# shellcheck shell=bash
# RabbitMQ from Debian's rabbitmq-server package, run as its own node (plexus-it@localhost) with all of its
# state under $PLEXUS_STATE_DIR/rabbitmq, listening on 127.0.0.1 only, management plugin enabled.

RABBITMQ_USER=${PLEXUS_RABBITMQ_USER:-plexus}
RABBITMQ_PASS=${PLEXUS_RABBITMQ_PASS:-plexus-it-pass}
RABBITMQ_PORT=$(port 5672)
RABBITMQ_MGMT_PORT=$(port 15672)
# The node name is per port offset (epmd on 4369 is shared by every node of the machine); the distribution
# port is RabbitMQ's default, the AMQP port + 20000, on 127.0.0.1.
if [ "$PLEXUS_PORT_OFFSET" = 0 ]; then RABBITMQ_NODE=plexus-it@localhost; else
  RABBITMQ_NODE=plexus-it-$PLEXUS_PORT_OFFSET@localhost
fi
RABBITMQ_BIN=/usr/lib/rabbitmq/bin

rabbitmq_install() {
  [ -x "$RABBITMQ_BIN/rabbitmq-server" ] && return 0
  log "rabbitmq: installing Debian's rabbitmq-server"
  apt_install rabbitmq-server >>"$(svc_dir rabbitmq)/install.log" 2>&1 || {
    tail_log "$(svc_dir rabbitmq)/install.log"
    return 1
  }
  # The package may have started the system node (where no policy-rc.d forbids it); this harness runs
  # its own node, so stop that one to free the standard ports.
  if /usr/sbin/rabbitmqctl -q ping >/dev/null 2>&1; then
    log "rabbitmq: stopping the system node the package started"
    service rabbitmq-server stop >/dev/null 2>&1 || /usr/sbin/rabbitmqctl -q stop >/dev/null 2>&1 || true
  fi
}

# The environment of our node: every path under the state dir, loopback only.
rabbitmq_env() {
  local d
  d=$(svc_dir rabbitmq)
  export RABBITMQ_NODENAME=$RABBITMQ_NODE
  export RABBITMQ_CONF_ENV_FILE=$d/rabbitmq-env.conf
  export RABBITMQ_CONFIG_FILE=$d/rabbitmq.conf
  export RABBITMQ_ADVANCED_CONFIG_FILE=$d/advanced.config
  export RABBITMQ_ENABLED_PLUGINS_FILE=$d/enabled_plugins
  export RABBITMQ_MNESIA_BASE=$d/mnesia
  export RABBITMQ_LOG_BASE=$d/log
  export RABBITMQ_LOGS=-
  export RABBITMQ_PID_FILE=$d/rabbitmq.pid
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$RABBITMQ_PORT
  export ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

rabbitmqctl_it() { (rabbitmq_env && "$RABBITMQ_BIN/rabbitmqctl" -n "$RABBITMQ_NODE" "$@"); }

rabbitmq_ready() {
  curl -sf -u "$RABBITMQ_USER:$RABBITMQ_PASS" "http://127.0.0.1:$RABBITMQ_MGMT_PORT/api/overview" >/dev/null
}

rabbitmq_start() {
  local d pidfile
  d=$(svc_dir rabbitmq)
  pidfile=$d/pid
  mkdir -p "$d/mnesia" "$d/log"
  if ! already_up "rabbitmq" "$pidfile" rabbitmq_ready; then
    stop_pidfile "$pidfile" 30
    local p
    for p in "$RABBITMQ_PORT" "$RABBITMQ_MGMT_PORT" $((RABBITMQ_PORT + 20000)); do
      port_open "$p" && {
        log "rabbitmq: 127.0.0.1:$p is taken by another process"
        return 1
      }
    done
    : >"$d/rabbitmq-env.conf"
    echo '[rabbitmq_management].' >"$d/enabled_plugins"
    echo '[].' >"$d/advanced.config"
    cat >"$d/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$RABBITMQ_PORT
management.tcp.ip = 127.0.0.1
management.tcp.port = $RABBITMQ_MGMT_PORT
loopback_users.guest = true
vm_memory_high_watermark.absolute = 1GiB
disk_free_limit.absolute = 50MB
log.console = true
log.console.level = info
log.file = false
EOF
    (rabbitmq_env && start_bg "$pidfile" "$(svc_log rabbitmq)" "$RABBITMQ_BIN/rabbitmq-server")
    wait_until "rabbitmq (AMQP port)" "$pidfile" "$PLEXUS_START_TIMEOUT" port_open "$RABBITMQ_PORT" || return 1
    wait_until "rabbitmq (node boot)" "$pidfile" "$PLEXUS_START_TIMEOUT" \
      rabbitmqctl_it await_startup --timeout 10 || return 1
    # The test user (kept across restarts in mnesia; set again each start in case the password changed).
    if ! rabbitmqctl_it -q list_users | awk '{print $1}' | grep -qx "$RABBITMQ_USER"; then
      rabbitmqctl_it -q add_user "$RABBITMQ_USER" "$RABBITMQ_PASS" >/dev/null
    else
      rabbitmqctl_it -q change_password "$RABBITMQ_USER" "$RABBITMQ_PASS" >/dev/null
    fi
    rabbitmqctl_it -q set_user_tags "$RABBITMQ_USER" administrator >/dev/null
    rabbitmqctl_it -q set_permissions -p / "$RABBITMQ_USER" '.*' '.*' '.*' >/dev/null
    wait_until "rabbitmq (management API)" "$pidfile" "$PLEXUS_START_TIMEOUT" rabbitmq_ready || return 1
  fi
  write_env_fragment rabbitmq \
    "RABBITMQ_URL=amqp://$RABBITMQ_USER:$RABBITMQ_PASS@127.0.0.1:$RABBITMQ_PORT" \
    "RABBITMQ_MGMT_URL=http://$RABBITMQ_USER:$RABBITMQ_PASS@127.0.0.1:$RABBITMQ_MGMT_PORT"
}

rabbitmq_stop() {
  local pidfile
  pidfile=$(svc_dir rabbitmq)/pid
  # A clean broker shutdown first (the server script also turns TERM into this), then by PID. The node
  # name is the harness' own, so this also stops a node of ours whose pid file was lost.
  if pid_alive "$pidfile" || port_open "$RABBITMQ_PORT"; then
    rabbitmqctl_it -q stop >/dev/null 2>&1 || true
  fi
  stop_pidfile "$pidfile" 30
}

rabbitmq_logs() { echo "$(svc_log rabbitmq)"; }
