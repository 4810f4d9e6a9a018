# shellcheck shell=bash
# helm v3 (a tool, not a service): built with Go from the module proxy (test/infra/build/helm/go.mod) for the
# chart checks; exported as HELM_BIN.

HELM_VERSION=$(go_mod_version helm helm.sh/helm/v3)
HELM_VERSION=${HELM_VERSION#v}
HELM_BIN=$PLEXUS_CACHE_DIR/helm-$HELM_VERSION/helm

helm_build() {
  go_build_tool helm "$HELM_BIN" helm.sh/helm/v3/cmd/helm \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION" || return 1
}

helm_install() {
  [ -x "$HELM_BIN" ] && return 0
  with_lock "$PLEXUS_CACHE_DIR/.go-build.lock" helm_build >>"$(svc_dir helm)/build.log" 2>&1 || {
    tail_log "$(svc_dir helm)/build.log"
    return 1
  }
}

helm_start() {
  "$HELM_BIN" version --short >"$(svc_dir helm)/helm.log" 2>&1 || {
    log "helm: $HELM_BIN does not run"
    return 1
  }
  log "helm: $(cat "$(svc_dir helm)/helm.log")"
  write_env_fragment helm "HELM_BIN=$HELM_BIN"
}

helm_stop() { :; }

helm_logs() { echo "$(svc_dir helm)/build.log $(svc_dir helm)/helm.log"; }
