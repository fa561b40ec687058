#!/bin/bash
# ha-chaos: OCF resource agent for client connectivity, installed by provisioning.
#
# What ocf:pacemaker:ping does (a node attribute, `pingd`, is the multiplier when the client
# network's gateway answers and 0 when it does not; a location rule keeps the mail service off a
# node whose clients cannot reach it), at a fraction of its cost: measured under emulation,
# ocf:pacemaker:ping was the most expensive thing on an idle guest (10-15% of a 1-vCPU guest at a
# 10 s interval: it sources the OCF shell library and runs attrd_updater on every monitor). This
# one uses bash builtins, one ping, and calls attrd_updater only when the value changes. Once a
# minute it also reads the value back from the CIB: when the CIB lacks it (Pacemaker erases a
# node's transient attributes when its controller respawns, and pacemaker-attrd, whose value did
# not change, never writes them again: ClusterLabs/pacemaker#1693), it asks attrd to write every
# value again (attrd_updater --refresh). Without that, the mail service's location rule bans the
# node, and it could not take the service over.
: ${OCF_RESKEY_host_list:=}
: ${OCF_RESKEY_name:=pingd}
: ${OCF_RESKEY_multiplier:=1000}
: ${OCF_RESKEY_dampen:=5s}
: ${HACHAOS_STATE_DIR:=/run}
: ${HACHAOS_ATTRD_UPDATER:=attrd_updater}
: ${HACHAOS_PING:=ping}
: ${HACHAOS_CRM_ATTRIBUTE:=crm_attribute}
OCF_SUCCESS=0; OCF_ERR_GENERIC=1; OCF_ERR_CONFIGURED=6; OCF_ERR_UNIMPLEMENTED=3; OCF_NOT_RUNNING=7
STATE="$HACHAOS_STATE_DIR/ha-chaos-clientping-${OCF_RESOURCE_INSTANCE:-clientping}"

meta_data() {
  cat <<'XML'
<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="clientping" version="1.0">
  <version>1.0</version>
  <longdesc lang="en">Sets a node attribute to the multiplier when host_list answers a ping, else 0 (ha-chaos).</longdesc>
  <shortdesc lang="en">Client connectivity (ha-chaos)</shortdesc>
  <parameters>
    <parameter name="host_list" required="1"><content type="string"/><shortdesc lang="en">the address to ping</shortdesc></parameter>
    <parameter name="name"><content type="string" default="pingd"/><shortdesc lang="en">attribute name</shortdesc></parameter>
    <parameter name="multiplier"><content type="integer" default="1000"/><shortdesc lang="en">value when it answers</shortdesc></parameter>
    <parameter name="dampen"><content type="string" default="5s"/><shortdesc lang="en">attrd dampening</shortdesc></parameter>
  </parameters>
  <actions>
    <action name="start" timeout="60s"/>
    <action name="stop" timeout="60s"/>
    <action name="monitor" timeout="60s" interval="10s"/>
    <action name="meta-data" timeout="5s"/>
    <action name="validate-all" timeout="5s"/>
  </actions>
</resource-agent>
XML
}

# Writes the attribute if it changed, or if `force`; on every 6th monitor, checks that the CIB has it.
update() {
  local value=0 last='' count=0 cib=''
  "$HACHAOS_PING" -n -q -c 1 -W 2 "$OCF_RESKEY_host_list" >/dev/null 2>&1 && value=$OCF_RESKEY_multiplier
  [ -f "$STATE.value" ] && read -r last count < "$STATE.value"
  count=$(( ${count:-0} + 1 ))
  if [ "$1" = force ] || [ "$value" != "$last" ]; then
    "$HACHAOS_ATTRD_UPDATER" -n "$OCF_RESKEY_name" -U "$value" -d "$OCF_RESKEY_dampen" || return 1
    count=0
  elif [ "$count" -ge 6 ]; then
    count=0
    cib=$("$HACHAOS_CRM_ATTRIBUTE" -t status -N "${OCF_RESKEY_CRM_meta_on_node:-$(uname -n)}" -n "$OCF_RESKEY_name" -G -q 2>/dev/null) || cib=''
    [ "$cib" = "$value" ] || "$HACHAOS_ATTRD_UPDATER" --refresh || return 1
  fi
  echo "$value $count" > "$STATE.value"
}

case "${1:-}" in
  meta-data) meta_data; exit $OCF_SUCCESS ;;
  validate-all) [ -n "$OCF_RESKEY_host_list" ] || exit $OCF_ERR_CONFIGURED; exit $OCF_SUCCESS ;;
  start)
    [ -n "$OCF_RESKEY_host_list" ] || exit $OCF_ERR_CONFIGURED
    : > "$STATE.active"
    update force || exit $OCF_ERR_GENERIC
    exit $OCF_SUCCESS ;;
  stop)
    rm -f "$STATE.active" "$STATE.value"
    "$HACHAOS_ATTRD_UPDATER" -D -n "$OCF_RESKEY_name" -d "$OCF_RESKEY_dampen" >/dev/null 2>&1
    exit $OCF_SUCCESS ;;
  monitor|status)
    [ -f "$STATE.active" ] || exit $OCF_NOT_RUNNING
    update || exit $OCF_ERR_GENERIC
    exit $OCF_SUCCESS ;;
  *) exit $OCF_ERR_UNIMPLEMENTED ;;
esac
