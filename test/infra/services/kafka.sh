# shellcheck shell=bash
# Apache Kafka in KRaft mode from Maven Central jars (test/infra/build/kafka/pom.xml) on Java 17, one combined
# broker/controller on 127.0.0.1:9092 (controller 9093; + PLEXUS_PORT_OFFSET), data under $PLEXUS_STATE_DIR/kafka.

KAFKA_VERSION=$(pom_property kafka kafka.version)
KAFKA_HOME=$PLEXUS_CACHE_DIR/kafka-$KAFKA_VERSION
KAFKA_HEAP=${PLEXUS_KAFKA_HEAP:-512m}
KAFKA_PORT=$(port 9092)
KAFKA_CONTROLLER_PORT=$(port 9093)

kafka_install() {
  [ -x "$JAVA17_HOME/bin/java" ] || {
    log "kafka: Java 17 is missing ($JAVA17_HOME); install openjdk-17-jre-headless"
    return 1
  }
  with_lock "$PLEXUS_CACHE_DIR/.kafka.lock" maven_copy_deps kafka "$KAFKA_HOME" \
    >>"$(svc_dir kafka)/install.log" 2>&1 || {
    tail_log "$(svc_dir kafka)/install.log"
    return 1
  }
}

# SLF4J simple logger: warnings, plus the broker's and controller's start/stop lines.
KAFKA_LOG_OPTS=(
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn
  -Dorg.slf4j.simpleLogger.log.kafka.server.BrokerServer=info
  -Dorg.slf4j.simpleLogger.log.kafka.server.ControllerServer=info
  -Dorg.slf4j.simpleLogger.showDateTime=true "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSS"
  -Dorg.slf4j.simpleLogger.logFile=System.out
)

kafka_java() { "$JAVA17_HOME/bin/java" "${KAFKA_LOG_OPTS[@]}" -cp "$KAFKA_HOME/lib/*" "$@"; }

kafka_ready() { port_open "$KAFKA_PORT" && node_check kafka "127.0.0.1:$KAFKA_PORT"; }

kafka_start() {
  local d pidfile
  d=$(svc_dir kafka)
  pidfile=$d/pid
  if ! already_up "kafka" "$pidfile" kafka_ready; then
    stop_pidfile "$pidfile" 60
    local p
    for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
      port_open "$p" && {
        log "kafka: 127.0.0.1:$p is taken by another process"
        return 1
      }
    done
    mkdir -p "$d/data"
    {
      cat "$INFRA_DIR/conf/kafka-server.properties"
      echo "controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT"
      echo "listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT"
      echo "advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT"
      echo "log.dirs=$d/data"
    } >"$d/server.properties"
    # Format the storage once (the cluster id is kept with the data).
    if [ ! -f "$d/data/meta.properties" ]; then
      [ -s "$d/cluster-id" ] || kafka_java kafka.tools.StorageTool random-uuid >"$d/cluster-id" 2>>"$(svc_log kafka)" ||
        return 1
      kafka_java kafka.tools.StorageTool format -t "$(tr -d '[:space:]' <"$d/cluster-id")" \
        -c "$d/server.properties" --ignore-formatted >>"$(svc_log kafka)" 2>&1 || {
        log "kafka: formatting the storage failed"
        return 1
      }
    fi
    start_bg "$pidfile" "$(svc_log kafka)" "$JAVA17_HOME/bin/java" "-Xms$KAFKA_HEAP" "-Xmx$KAFKA_HEAP" \
      -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError -XX:ActiveProcessorCount=2 \
      -Djava.awt.headless=true "${KAFKA_LOG_OPTS[@]}" -cp "$KAFKA_HOME/lib/*" kafka.Kafka "$d/server.properties"
    wait_until "kafka (broker on $KAFKA_PORT)" "$pidfile" "$PLEXUS_START_TIMEOUT" kafka_ready || return 1
  fi
  write_env_fragment kafka "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
}

kafka_stop() { stop_pidfile "$(svc_dir kafka)/pid" 60; }

kafka_logs() { echo "$(svc_dir kafka)/install.log $(svc_log kafka)"; }
