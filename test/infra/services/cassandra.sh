# shellcheck shell=bash
# Apache Cassandra 5.0 from Maven Central jars (test/infra/build/cassandra/pom.xml) on Java 17, one node on
# 127.0.0.1:9042 (+ PLEXUS_PORT_OFFSET), small heap, config in test/infra/conf/cassandra.yaml, data under $PLEXUS_STATE_DIR/cassandra.

CASSANDRA_VERSION=$(pom_property cassandra cassandra.version)
CASSANDRA_HOME=$PLEXUS_CACHE_DIR/cassandra-$CASSANDRA_VERSION
CASSANDRA_HEAP=${PLEXUS_CASSANDRA_HEAP:-1G}
CASSANDRA_CQL_PORT=$(port 9042)
CASSANDRA_STORAGE_PORT=$(port 7000)

cassandra_install() {
  [ -x "$JAVA17_HOME/bin/java" ] || {
    log "cassandra: Java 17 is missing ($JAVA17_HOME); install openjdk-17-jre-headless"
    return 1
  }
  with_lock "$PLEXUS_CACHE_DIR/.cassandra.lock" maven_copy_deps cassandra "$CASSANDRA_HOME" \
    >>"$(svc_dir cassandra)/install.log" 2>&1 || {
    tail_log "$(svc_dir cassandra)/install.log"
    return 1
  }
}

cassandra_ready() { port_open "$CASSANDRA_CQL_PORT" && node_check cql "127.0.0.1:$CASSANDRA_CQL_PORT"; }

cassandra_start() {
  local d pidfile jamm
  d=$(svc_dir cassandra)
  pidfile=$d/pid
  if ! already_up "cassandra" "$pidfile" cassandra_ready; then
    stop_pidfile "$pidfile" 60
    local p
    for p in "$CASSANDRA_CQL_PORT" "$CASSANDRA_STORAGE_PORT"; do
      port_open "$p" && {
        log "cassandra: 127.0.0.1:$p is taken by another process"
        return 1
      }
    done
    mkdir -p "$d/data" "$d/logs" "$d/triggers"
    {
      cat "$INFRA_DIR/conf/cassandra.yaml"
      echo "storage_port: $CASSANDRA_STORAGE_PORT"
      echo "native_transport_port: $CASSANDRA_CQL_PORT"
      echo 'seed_provider:'
      echo '  - class_name: org.apache.cassandra.locator.SimpleSeedProvider'
      echo '    parameters:'
      echo "      - seeds: '127.0.0.1:$CASSANDRA_STORAGE_PORT'"
    } >"$d/cassandra.yaml"
    cp "$INFRA_DIR/conf/cassandra-logback.xml" "$d/logback.xml"
    jamm=$(ls "$CASSANDRA_HOME"/lib/jamm-*.jar)
    # JPMS flags: Cassandra 5.0's conf/jvm17-server.options plus what its tests open on Java 17.
    local jpms=(
      -Djdk.attach.allowAttachSelf=true -Dio.netty.tryReflectionSetAccessible=true
      --add-exports java.base/jdk.internal.misc=ALL-UNNAMED --add-exports java.base/java.lang.ref=ALL-UNNAMED
      --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
      --add-exports java.management/com.sun.jmx.remote.security=ALL-UNNAMED
      --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
      --add-exports java.sql/java.sql=ALL-UNNAMED --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
      --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
      --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
      --add-opens java.base/java.lang.module=ALL-UNNAMED --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
      --add-opens java.base/jdk.internal.ref=ALL-UNNAMED --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
      --add-opens java.base/jdk.internal.math=ALL-UNNAMED --add-opens java.base/jdk.internal.module=ALL-UNNAMED
      --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
      --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
      --add-opens java.base/sun.nio.ch=ALL-UNNAMED --add-opens java.base/java.io=ALL-UNNAMED
      --add-opens java.base/java.lang.reflect=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED
      --add-opens java.base/java.util=ALL-UNNAMED --add-opens java.base/java.nio=ALL-UNNAMED
      --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
    )
    start_bg "$pidfile" "$(svc_log cassandra)" "$JAVA17_HOME/bin/java" \
      "-Xms$CASSANDRA_HEAP" "-Xmx$CASSANDRA_HEAP" -Xmn256M -Xss512k -XX:+UseG1GC -XX:+PerfDisableSharedMem \
      -XX:+ExitOnOutOfMemoryError -XX:ActiveProcessorCount=2 \
      "-javaagent:$jamm" "${jpms[@]}" -Djava.net.preferIPv4Stack=true \
      -Dcassandra-foreground=yes "-Dcassandra.config=file://$d/cassandra.yaml" "-Dcassandra.storagedir=$d/data" \
      "-Dcassandra.logdir=$d/logs" "-Dlogback.configurationFile=$d/logback.xml" \
      -Dcassandra.skip_wait_for_gossip_to_settle=0 -Dcassandra.superuser_setup_delay_ms=0 \
      -Dcassandra.ring_delay_ms=1000 "-Dcassandra.triggers_dir=$d/triggers" \
      -cp "$CASSANDRA_HOME/lib/*" org.apache.cassandra.service.CassandraDaemon
    wait_until "cassandra (CQL on $CASSANDRA_CQL_PORT)" "$pidfile" "$PLEXUS_START_TIMEOUT" cassandra_ready || return 1
  fi
  write_env_fragment cassandra "CASSANDRA_CONTACT_POINTS=127.0.0.1:$CASSANDRA_CQL_PORT" "CASSANDRA_LOCAL_DC=datacenter1"
}

cassandra_stop() { stop_pidfile "$(svc_dir cassandra)/pid" 60; }

cassandra_logs() { echo "$(svc_dir cassandra)/install.log $(svc_log cassandra)"; }
