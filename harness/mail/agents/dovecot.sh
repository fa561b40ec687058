#!/bin/bash
# ha-chaos: OCF resource agent for the stand-in IMAP/POP3 service (Dovecot), generated.
: ${OCF_ROOT:=/usr/lib/ocf}
# Overridable for the agent's own tests on the host.
: ${HACHAOS_IMAP_PORT:=143}
: ${HACHAOS_USERS:=/etc/dovecot/users}
: ${HACHAOS_DOVECOT_PID:=/run/dovecot/master.pid}
OCF_SUCCESS=0; OCF_ERR_GENERIC=1; OCF_ERR_UNIMPLEMENTED=3; OCF_NOT_RUNNING=7

meta_data() {
  cat <<'XML'
<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="dovecot" version="1.0">
  <version>1.0</version>
  <longdesc lang="en">Dovecot through systemd; the monitor logs in over IMAP on 127.0.0.1.</longdesc>
  <shortdesc lang="en">Dovecot with a login monitor (ha-chaos)</shortdesc>
  <parameters/>
  <actions>
    <action name="start" timeout="180s"/>
    <action name="stop" timeout="90s"/>
    <action name="monitor" timeout="60s" interval="15s"/>
    <action name="meta-data" timeout="5s"/>
    <action name="validate-all" timeout="5s"/>
  </actions>
</resource-agent>
XML
}

# One IMAP login and logout as the first account in Dovecot's users file, 5 s at most.
imap_login() {
  local user pass
  IFS=: read -r user pass _ < "$HACHAOS_USERS" || return 1
  pass=${pass#\{PLAIN\}}
  timeout 5 bash -c '
    exec 3<>/dev/tcp/127.0.0.1/$3 || exit 1
    IFS= read -r -t 4 line <&3 || exit 1
    case "$line" in "* OK"*) ;; *) exit 1 ;; esac
    printf "a LOGIN \"%s\" \"%s\"\r\nb LOGOUT\r\n" "$1" "$2" >&3
    while IFS= read -r -t 4 line <&3; do
      case "$line" in "a OK"*) exit 0 ;; "a "*) exit 1 ;; esac
    done
    exit 1' imap-login "$user" "$pass" "$HACHAOS_IMAP_PORT"
}

# Whether Dovecot's master runs, from its pid file and /proc: no process is started for it
# (systemctl is-active costs a fork and a D-Bus round trip on every monitor, under emulation ~0.2 s).
master_runs() {
  local pid comm
  read -r pid < "$HACHAOS_DOVECOT_PID" 2>/dev/null || return 1
  read -r comm < "/proc/$pid/comm" 2>/dev/null || return 1
  [ "$comm" = dovecot ]
}

logins_work() {
  local i
  for i in 1 2 3; do imap_login && return 0; sleep 1; done
  return 1
}

case "${1:-}" in
  meta-data) meta_data; exit $OCF_SUCCESS ;;
  validate-all) exit $OCF_SUCCESS ;;
  login-check) logins_work; exit $? ;; # not OCF: the monitor's login check alone
  start)
    systemctl start dovecot.service || exit $OCF_ERR_GENERIC
    # Started means answering: wait for a login (Pacemaker's start timeout bounds this).
    until imap_login; do sleep 1; done
    exit $OCF_SUCCESS ;;
  stop)
    systemctl stop dovecot.service || exit $OCF_ERR_GENERIC
    exit $OCF_SUCCESS ;;
  monitor|status)
    master_runs || exit $OCF_NOT_RUNNING
    logins_work && exit $OCF_SUCCESS
    echo "dovecot: active, but IMAP logins on 127.0.0.1:143 fail" >&2
    exit $OCF_ERR_GENERIC ;;
  *) exit $OCF_ERR_UNIMPLEMENTED ;;
esac
