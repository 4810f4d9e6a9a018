# shellcheck shell=bash
# SFTP server: OpenSSH's sshd from Debian's openssh-server package, run in the foreground with its own
# configuration, host key, authorized_keys and pid file under $PLEXUS_STATE_DIR/sftp, on 127.0.0.1 only,
# public-key authentication only, the in-process sftp server (internal-sftp). The login user is the user
# running the harness (root in CI): a non-root sshd can only log its own user in (through PAM).
#
# Two ports: SFTP_PORT is a normal SFTP server; SFTP_DENY_PORT is the same server where every open, rename,
# remove and mkdir is refused with "permission denied" (a restricted internal-sftp), so tests can see that
# error even as root. The package's own system sshd is never started (policy-rc.d during the install).

SFTP_PORT=$(port 2222)
SFTP_DENY_PORT=$(port 2223)
SSHD_BIN=/usr/sbin/sshd

sftp_install() {
  [ -x "$SSHD_BIN" ] && command -v ssh-keygen >/dev/null && command -v sftp >/dev/null && return 0
  log "sftp: installing Debian's openssh-server"
  # The package's postinst starts the system sshd on port 22 unless policy-rc.d forbids it: when the machine
  # has no policy-rc.d, one that forbids every start is in place for the duration of the install.
  local policy=/usr/sbin/policy-rc.d added=false rc=0
  if [ ! -e "$policy" ] && [ -w "$(dirname "$policy")" ]; then
    printf '#!/bin/sh\n# test/infra/services/sftp.sh: no service starts while openssh-server installs\nexit 101\n' \
      >"$policy"
    chmod 755 "$policy"
    added=true
  fi
  apt_install openssh-server >>"$(svc_dir sftp)/install.log" 2>&1 || rc=$?
  if $added; then rm -f "$policy"; fi
  if [ "$rc" -ne 0 ]; then
    tail_log "$(svc_dir sftp)/install.log"
    return 1
  fi
  # Under systemd the package enables ssh.service for the next boot; the harness runs its own sshd only.
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || true
  fi
  [ -x "$SSHD_BIN" ] || {
    log "sftp: $SSHD_BIN is missing after installing openssh-server"
    return 1
  }
}

sftp_user() { id -un; }

# Ready = a real SFTP session: key authentication with the client key, the host key checked against the
# harness' known_hosts, one command run.
sftp_session_ok() {
  local d=$1 p=$2
  printf 'ls -a /\n' | sftp -q -b - -F /dev/null -i "$d/client_ed25519" -P "$p" \
    -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$d/known_hosts" \
    -o ConnectTimeout=5 "$(sftp_user)@127.0.0.1"
}
sftp_ready() {
  local d
  d=$(svc_dir sftp)
  sftp_session_ok "$d" "$SFTP_PORT" && ssh-keyscan -T 5 -t ed25519 -p "$SFTP_DENY_PORT" 127.0.0.1 2>/dev/null | grep -q ssh-ed25519
}

sftp_start() {
  local d pidfile user
  d=$(svc_dir sftp)
  pidfile=$d/pid
  user=$(sftp_user)
  mkdir -p "$d/files"
  # keys first: they stay across restarts, so a known_hosts written by a test stays valid
  [ -f "$d/ssh_host_ed25519_key" ] ||
    ssh-keygen -q -t ed25519 -N '' -C plexus-it-sftp-host -f "$d/ssh_host_ed25519_key" || return 1
  [ -f "$d/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C plexus-it-sftp-client -f "$d/client_ed25519" ||
    return 1
  cp "$d/client_ed25519.pub" "$d/authorized_keys"
  {
    echo "[127.0.0.1]:$SFTP_PORT $(cut -d' ' -f1,2 "$d/ssh_host_ed25519_key.pub")"
    echo "[127.0.0.1]:$SFTP_DENY_PORT $(cut -d' ' -f1,2 "$d/ssh_host_ed25519_key.pub")"
  } >"$d/known_hosts"
  if ! already_up "sftp" "$pidfile" sftp_ready; then
    stop_pidfile "$pidfile" 20
    local p
    for p in "$SFTP_PORT" "$SFTP_DENY_PORT"; do
      port_open "$p" && {
        log "sftp: 127.0.0.1:$p is taken by another process"
        return 1
      }
    done
    # As root, sshd's privilege separation needs its (empty, root-owned) chroot directory.
    # Without PAM a non-root sshd (which cannot read /etc/shadow) takes the user for a locked account; as
    # root, PAM is off (its session modules, e.g. pam_loginuid, fail in containers) and the account check
    # reads the shadow entry.
    local use_pam=yes
    if [ "$(id -u)" = 0 ]; then
      mkdir -p /run/sshd && chmod 755 /run/sshd
      use_pam=no
    fi
    cat >"$d/sshd_config" <<EOF
# Written by test/infra/services/sftp.sh
Port $SFTP_PORT
Port $SFTP_DENY_PORT
ListenAddress 127.0.0.1
AddressFamily inet
HostKey $d/ssh_host_ed25519_key
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
AllowUsers $user
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM $use_pam
StrictModes no
PermitTTY no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
PermitUserEnvironment no
MaxStartups 100:30:200
MaxSessions 50
LoginGraceTime 30
LogLevel INFO
Subsystem sftp internal-sftp
Match LocalPort $SFTP_DENY_PORT
  ForceCommand internal-sftp -P open,opendir,rename,posix-rename@openssh.com,remove,mkdir,rmdir,setstat,fsetstat
EOF
    "$SSHD_BIN" -t -f "$d/sshd_config" >>"$(svc_log sftp)" 2>&1 || {
      log "sftp: sshd rejected $d/sshd_config"
      return 1
    }
    start_bg "$pidfile" "$(svc_log sftp)" "$SSHD_BIN" -D -e -f "$d/sshd_config"
    wait_until "sftp (sshd on $SFTP_PORT, $SFTP_DENY_PORT)" "$pidfile" "$PLEXUS_START_TIMEOUT" sftp_ready ||
      return 1
  fi
  write_env_fragment sftp \
    "SFTP_HOST=127.0.0.1" \
    "SFTP_PORT=$SFTP_PORT" \
    "SFTP_DENY_PORT=$SFTP_DENY_PORT" \
    "SFTP_USER=$user" \
    "SFTP_PRIVATE_KEY=$d/client_ed25519" \
    "SFTP_KNOWN_HOSTS=$d/known_hosts" \
    "SFTP_ROOT=$d/files" \
    "SFTP_LOG=$(svc_log sftp)"
}

sftp_stop() { stop_pidfile "$(svc_dir sftp)/pid" 20; }

sftp_logs() { echo "$(svc_dir sftp)/install.log $(svc_log sftp)"; }
