#!/bin/bash
# ha-chaos: OCF resource agent for the stand-in SMTP service (Postfix), installed by provisioning.
#
# Why not ocf:heartbeat:postfix: its every monitor runs `postfix check` (a shell script walking the
# queue and the installation; ~9 s of CPU under emulation), so an idle 1-vCPU guest spent about
# half its time on it, and the cluster's own operations then timed out behind it. This one asks
# the kernel whether Postfix's master runs and whether it greets on 127.0.0.1:25: no process is
# started for a monitor, only bash builtins.
: ${OCF_ROOT:=/usr/lib/ocf}
# Overridable for the agent's own tests on the host.
: ${HACHAOS_SMTP_PORT:=25}
: ${HACHAOS_POSTFIX_QUEUE:=@QUEUE_DIRECTORY@}
OCF_SUCCESS=0; OCF_ERR_GENERIC=1; OCF_ERR_UNIMPLEMENTED=3; OCF_NOT_RUNNING=7

meta_data() {
  cat <<'XML'
<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="postfix" version="1.0">
  <version>1.0</version>
  <longdesc lang="en">Postfix; the monitor checks the master process and the SMTP greeting on 127.0.0.1.</longdesc>
  <shortdesc lang="en">Postfix with a light monitor (ha-chaos)</shortdesc>
  <parameters/>
  <actions>
    <action name="start" timeout="180s"/>
    <action name="stop" timeout="90s"/>
    <action name="monitor" timeout="60s" interval="30s"/>
    <action name="meta-data" timeout="5s"/>
    <action name="validate-all" timeout="5s"/>
  </actions>
</resource-agent>
XML
}

# Whether the master named in the queue's pid file runs here. The pid file lives on the
# replicated store: after a failover it names the dead node's master, so the process's name
# is checked too, not only that some process has that number.
master_runs() {
  local pid comm
  read -r pid < "$HACHAOS_POSTFIX_QUEUE/pid/master.pid" 2>/dev/null || return 1
  [ -n "$pid" ] || return 1
  read -r comm < "/proc/$pid/comm" 2>/dev/null || return 1
  [ "$comm" = master ]
}

# One SMTP greeting (220) and QUIT on 127.0.0.1, within 4 s.
greets() {
  local line ok=1
  # (A bare `exec ... 2>/dev/null` would silence the whole agent's stderr from here on.)
  { exec 3<>"/dev/tcp/127.0.0.1/$HACHAOS_SMTP_PORT"; } 2>/dev/null || return 1
  if IFS= read -r -t 4 line <&3; then
    case "$line" in 220*) ok=0; { printf 'QUIT\r\n' >&3; } 2>/dev/null ;; esac
  fi
  exec 3<&-
  return $ok
}

greets_soon() {
  local i
  for i in 1 2 3; do greets && return 0; sleep 1; done
  return 1
}

case "${1:-}" in
  meta-data) meta_data; exit $OCF_SUCCESS ;;
  validate-all) exit $OCF_SUCCESS ;;
  greeting-check) greets_soon; exit $? ;; # not OCF: the monitor's greeting check alone
  start)
    if ! master_runs; then
      # The queue was created (and checked) once when the store was made; `postfix check` on
      # every start costs seconds of the outage under emulation. quick-start is Postfix's own
      # way to skip it for one start.
      [ -d "$HACHAOS_POSTFIX_QUEUE/maildrop" ] && touch "$HACHAOS_POSTFIX_QUEUE/quick-start"
      postfix start >/dev/null 2>&1 || master_runs || { echo "postfix: start failed" >&2; exit $OCF_ERR_GENERIC; }
    fi
    # Started means answering: wait for a greeting (Pacemaker's start timeout bounds this).
    until greets; do sleep 1; done
    exit $OCF_SUCCESS ;;
  stop)
    master_runs || exit $OCF_SUCCESS
    postfix stop >/dev/null 2>&1
    for i in $(seq 1 30); do master_runs || exit $OCF_SUCCESS; sleep 1; done
    postfix abort >/dev/null 2>&1
    sleep 1
    master_runs && { echo "postfix: master still running after stop and abort" >&2; exit $OCF_ERR_GENERIC; }
    exit $OCF_SUCCESS ;;
  monitor|status)
    master_runs || exit $OCF_NOT_RUNNING
    greets_soon && exit $OCF_SUCCESS
    echo "postfix: master runs, but no SMTP greeting on 127.0.0.1:$HACHAOS_SMTP_PORT" >&2
    exit $OCF_ERR_GENERIC ;;
  *) exit $OCF_ERR_UNIMPLEMENTED ;;
esac
