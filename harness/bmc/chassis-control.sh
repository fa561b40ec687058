#!/usr/bin/env bash
# chassis-control: the program OpenIPMI's ipmi_sim runs for every chassis power request of one
# virtual BMC. ipmi_sim calls it synchronously inside its single event loop, so it must be fast
# and idempotent (ipmitool retransmits a request that takes over ~1 s, and the same command may
# then run again). Anything slow (starting a VM) is detached, with ipmi_sim's sockets closed.
#
# Usage (through the per-BMC wrapper `<bmc-dir>/control`):
#   chassis-control <bmc-dir> get <param>...      prints `<param>:<value>` lines (power:0|1)
#   chassis-control <bmc-dir> set <param> <value> power 0|1, reset 1, shutdown 1
#
# <bmc-dir>/target.env names the power target:
#   TARGET_KIND=process  PIDFILE=... START_CMD=...   a stand-in process is "the machine"
#   TARGET_KIND=libvirt  LIBVIRT_URI=... DOMAIN=...  a libvirt domain is the machine
#   TARGET_KIND=docker   CONTAINER=...               a container is the machine (the container lane)
# <bmc-dir>/faults.env (optional) holds the fault knobs:
#   FAULT_MODE=normal|fail|ignore   fail: set requests fail; ignore: acknowledged, nothing done
#   FAULT_DELAY_MS=N                every set request is delayed by N ms
# Every set request is appended to <bmc-dir>/power.log as one JSON line (host clock, epoch ms).
# "Power on" means the machine exists (process alive / domain running or paused), never that the
# service on it is healthy: fence_ipmilan must see the truth to decide whether to power off.
set -u
dir=${1:?usage: chassis-control <bmc-dir> get|set ...}
shift
# Skip anything ipmi_sim puts before the verb (some builds pass the BMC name first).
while [ $# -gt 0 ] && [ "$1" != get ] && [ "$1" != set ]; do shift; done
[ $# -gt 0 ] || { echo "chassis-control: expected get or set" >&2; exit 2; }

# shellcheck source=/dev/null
. "$dir/target.env"
FAULT_MODE=normal
FAULT_DELAY_MS=0
# shellcheck source=/dev/null
[ -f "$dir/faults.env" ] && . "$dir/faults.env"

now_ms() { date +%s%3N; }
log_request() { # request value result [detail]
  printf '{"time":%s,"request":"%s","value":"%s","result":"%s","detail":"%s"}\n' \
    "$(now_ms)" "$1" "$2" "$3" "${4:-}" >> "$dir/power.log"
}

# Run "$@" fully detached: own session, no inherited descriptors (ipmi_sim's sockets).
detach() {
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
    done
    exec setsid "$@"
  ) </dev/null >>"$dir/target.out" 2>&1 &
  echo $!
}

# --- process target: a stand-in process is the machine -------------------------------------
proc_pid() {
  local pid state
  [ -f "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  state=$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$state" != Z ] || return 1
  echo "$pid"
}
proc_power() { proc_pid >/dev/null && echo 1 || echo 0; }
proc_off() { # hard: SIGKILL the whole process group, wait (bounded) until it is gone
  local pid i
  pid=$(proc_pid) || { rm -f "$PIDFILE"; return 0; }
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
  for i in $(seq 1 50); do proc_pid >/dev/null || break; sleep 0.02; done
  rm -f "$PIDFILE"
}
proc_on() {
  proc_pid >/dev/null && return 0
  detach sh -c "exec $START_CMD" > "$PIDFILE"
}
proc_reset() { proc_pid >/dev/null || return 0; proc_off && proc_on; } # a reset does not power on
proc_shutdown() { local pid; pid=$(proc_pid) && kill -TERM -- "-$pid" 2>/dev/null; return 0; }

# --- libvirt target: a libvirt domain is the machine ---------------------------------------
virsh_() { timeout 20 virsh -q -c "$LIBVIRT_URI" "$@"; }
virt_power() {
  case "$(virsh_ domstate "$DOMAIN" 2>/dev/null)" in
    running|paused|idle|"in shutdown"|pmsuspended|blocked) echo 1 ;;
    *) echo 0 ;;
  esac
}
virt_off() { [ "$(virt_power)" = 0 ] || virsh_ destroy "$DOMAIN" >/dev/null; }
virt_on() { [ "$(virt_power)" = 1 ] || detach timeout 120 virsh -q -c "$LIBVIRT_URI" start "$DOMAIN" >/dev/null; }
virt_reset() { virsh_ reset "$DOMAIN" >/dev/null; }
virt_shutdown() { virsh_ shutdown "$DOMAIN" >/dev/null; }

# --- docker target: a container is the machine (the container lane) -------------------------
# Off is SIGKILL to every process of the container at once (a paused container too: the signal is
# queued while frozen, and nothing runs again before it dies). On starts the same container again:
# its networks, its disk and its root file system come back as they were, like a machine's.
docker_() { timeout 20 docker "$@"; }
dock_power() {
  case "$(docker_ inspect -f '{{.State.Status}}' "$CONTAINER" 2>/dev/null)" in
    running|paused|restarting) echo 1 ;;
    *) echo 0 ;;
  esac
}
dock_off() { [ "$(dock_power)" = 0 ] || docker_ kill "$CONTAINER" >/dev/null; }
dock_on() { [ "$(dock_power)" = 1 ] || detach timeout 120 docker start "$CONTAINER" >/dev/null; }
dock_reset() { [ "$(dock_power)" = 0 ] || { docker_ kill "$CONTAINER" >/dev/null; detach timeout 120 docker start "$CONTAINER" >/dev/null; }; }
dock_shutdown() { detach timeout 120 docker stop -t 60 "$CONTAINER" >/dev/null; }

case "$TARGET_KIND" in
  docker) power=dock_power off=dock_off on=dock_on reset=dock_reset shutdown=dock_shutdown ;;
  process) power=proc_power off=proc_off on=proc_on reset=proc_reset shutdown=proc_shutdown ;;
  libvirt) power=virt_power off=virt_off on=virt_on reset=virt_reset shutdown=virt_shutdown ;;
  *) echo "chassis-control: unknown TARGET_KIND '$TARGET_KIND'" >&2; exit 2 ;;
esac

verb=$1
shift
if [ "$verb" = get ]; then
  for param in "$@"; do
    case "$param" in
      power) echo "power:$($power)" ;;
    esac
  done
  exit 0
fi

param=${1:-}
value=${2:-}
if [ "$FAULT_DELAY_MS" -gt 0 ] 2>/dev/null; then
  sleep "$(printf '%d.%03d' $((FAULT_DELAY_MS / 1000)) $((FAULT_DELAY_MS % 1000)))"
fi
case "$FAULT_MODE" in
  fail) log_request "$param" "$value" failed "fault: power control failing"; exit 1 ;;
  ignore) log_request "$param" "$value" ignored "fault: acknowledged, nothing done"; exit 0 ;;
esac

case "$param:$value" in
  power:0) action=$off ;;
  power:1) action=$on ;;
  reset:*) action=$reset ;;
  shutdown:*) action=$shutdown ;;
  *) log_request "$param" "$value" unsupported; exit 1 ;;
esac
if $action; then
  log_request "$param" "$value" done
else
  log_request "$param" "$value" failed "target action failed"
  exit 1
fi
