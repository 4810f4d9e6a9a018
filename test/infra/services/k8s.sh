# shellcheck shell=bash
# A Kubernetes API server without nodes (as envtest runs it): etcd + kube-apiserver built with Go from the
# module proxy (test/infra/build/{etcd,k8s}/go.mod), client-certificate auth with a harness CA, a kubeconfig
# at $PLEXUS_STATE_DIR/k8s/kubeconfig. No scheduler, kubelet or controller-manager: Pods and Jobs stay
# Pending, ownerReference garbage collection and namespace finalisation do not happen.

K8S_VERSION=$(go_mod_version k8s k8s.io/kubernetes)
K8S_VERSION=${K8S_VERSION#v}
ETCD_VERSION=$(go_mod_version etcd go.etcd.io/etcd/server/v3)
ETCD_VERSION=${ETCD_VERSION#v}
KUBE_APISERVER_BIN=$PLEXUS_CACHE_DIR/kube-apiserver-$K8S_VERSION/kube-apiserver
ETCD_BIN=$PLEXUS_CACHE_DIR/etcd-$ETCD_VERSION/etcd
K8S_API_PORT=$(port 6443)
ETCD_PORT=$(port 2379)
ETCD_PEER_PORT=$(port 2380)
# The harness PKI is made once per machine and kept with the cache, so every state dir (a developer's,
# CI's) serves the same CA and admin credentials and a kubeconfig stays valid across restarts and wipes.
K8S_PKI_DIR=$PLEXUS_CACHE_DIR/k8s-test-pki

k8s_build() {
  local minor v=k8s.io/component-base/version
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  go_build_tool etcd "$ETCD_BIN" go.etcd.io/etcd/server/v3 -ldflags "-s -w" || return 1
  go_build_tool k8s "$KUBE_APISERVER_BIN" k8s.io/kubernetes/cmd/kube-apiserver -ldflags "-s -w \
    -X $v.gitVersion=v$K8S_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean \
    -X $v.buildDate=1970-01-01T00:00:00Z" || return 1
}

k8s_install() {
  [ -x "$KUBE_APISERVER_BIN" ] && [ -x "$ETCD_BIN" ] && return 0
  # One Go build at a time on this machine (they each use every core).
  with_lock "$PLEXUS_CACHE_DIR/.go-build.lock" k8s_build >>"$(svc_dir k8s)/build.log" 2>&1 || {
    tail_log "$(svc_dir k8s)/build.log"
    return 1
  }
}

# The harness PKI, made once (see K8S_PKI_DIR): a CA, the API server's serving cert (127.0.0.1/localhost),
# an admin client cert (system:masters) and the service-account signing key.
k8s_pki() {
  local p=$K8S_PKI_DIR
  [ -f "$p/admin.crt" ] && return 0
  mkdir -p "$p"
  chmod 700 "$p"
  (
    cd "$p"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj /CN=plexus-it-ca \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj /CN=kube-apiserver \
      2>/dev/null
    printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc' \
      'extendedKeyUsage=serverAuth' 'keyUsage=critical,digitalSignature,keyEncipherment' >apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt \
      -days 3650 -extfile apiserver.ext 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr \
      -subj "/O=system:masters/CN=plexus-it-admin" 2>/dev/null
    printf '%s\n' 'extendedKeyUsage=clientAuth' 'keyUsage=critical,digitalSignature,keyEncipherment' >admin.ext
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out admin.crt.tmp \
      -days 3650 -extfile admin.ext 2>/dev/null
    mv admin.crt.tmp admin.crt
  ) || return 1
}

k8s_kubeconfig() {
  local d p
  d=$(svc_dir k8s)
  p=$K8S_PKI_DIR
  cat >"$d/kubeconfig.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: plexus-it
    cluster:
      server: https://127.0.0.1:$K8S_API_PORT
      certificate-authority-data: $(base64 -w0 <"$p/ca.crt")
users:
  - name: plexus-it-admin
    user:
      client-certificate-data: $(base64 -w0 <"$p/admin.crt")
      client-key-data: $(base64 -w0 <"$p/admin.key")
contexts:
  - name: plexus-it
    context:
      cluster: plexus-it
      user: plexus-it-admin
      namespace: default
current-context: plexus-it
EOF
  mv -f "$d/kubeconfig.tmp" "$d/kubeconfig"
}

k8s_curl() {
  local p=$K8S_PKI_DIR
  curl -sf --cacert "$p/ca.crt" --cert "$p/admin.crt" --key "$p/admin.key" "https://127.0.0.1:$K8S_API_PORT$1"
}

etcd_ready() { curl -sf "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }
# Ready, and the bootstrap controller has made the default namespace.
apiserver_ready() { k8s_curl /readyz >/dev/null && k8s_curl /api/v1/namespaces/default >/dev/null; }

k8s_start() {
  local d
  d=$(svc_dir k8s)
  mkdir -p "$d/etcd-data"
  with_lock "$PLEXUS_CACHE_DIR/.k8s-pki.lock" k8s_pki || {
    log "k8s: could not create the PKI with openssl"
    return 1
  }
  if ! already_up "k8s (etcd)" "$d/etcd.pid" etcd_ready; then
    stop_pidfile "$d/etcd.pid" 20
    local p
    for p in "$ETCD_PORT" "$ETCD_PEER_PORT"; do
      port_open "$p" && {
        log "k8s: 127.0.0.1:$p is taken by another process"
        return 1
      }
    done
    start_bg "$d/etcd.pid" "$d/etcd.log" "$ETCD_BIN" --name plexus-it --data-dir "$d/etcd-data" \
      --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
      --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
      --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
      --initial-cluster "plexus-it=http://127.0.0.1:$ETCD_PEER_PORT" \
      --unsafe-no-fsync --log-level warn
    wait_until "k8s (etcd)" "$d/etcd.pid" "$PLEXUS_START_TIMEOUT" etcd_ready || return 1
  fi
  if ! already_up "k8s (kube-apiserver)" "$d/kube-apiserver.pid" apiserver_ready; then
    stop_pidfile "$d/kube-apiserver.pid" 30
    port_open "$K8S_API_PORT" && {
      log "k8s: 127.0.0.1:$K8S_API_PORT is taken by another process"
      return 1
    }
    local p=$K8S_PKI_DIR
    mkdir -p "$d/cert-dir"
    start_bg "$d/kube-apiserver.pid" "$d/kube-apiserver.log" "$KUBE_APISERVER_BIN" \
      --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
      --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$K8S_API_PORT" \
      --cert-dir="$d/cert-dir" --tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" \
      --client-ca-file="$p/ca.crt" --authorization-mode=RBAC \
      --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$p/sa.key" \
      --service-account-signing-key-file="$p/sa.key" --service-cluster-ip-range=10.0.0.0/24 \
      --disable-admission-plugins=ServiceAccount --allow-privileged=true --endpoint-reconciler-type=none \
      --profiling=false --v=1
    wait_until "k8s (kube-apiserver)" "$d/kube-apiserver.pid" "$PLEXUS_START_TIMEOUT" apiserver_ready || return 1
  fi
  k8s_kubeconfig
  write_env_fragment k8s \
    "PLEXUS_TEST_KUBECONFIG=$d/kubeconfig" \
    "KUBE_APISERVER_BIN=$KUBE_APISERVER_BIN" \
    "ETCD_BIN=$ETCD_BIN"
}

k8s_stop() {
  local d
  d=$(svc_dir k8s)
  stop_pidfile "$d/kube-apiserver.pid" 30
  stop_pidfile "$d/etcd.pid" 20
}

k8s_logs() {
  local d
  d=$(svc_dir k8s)
  echo "$d/build.log $d/etcd.log $d/kube-apiserver.log"
}
