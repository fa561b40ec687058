#!/bin/sh
# Customises the container lane's node image (mmdebstrap's customize hook: $1 is the root file
# system). The node boots systemd as PID 1 like a VM does, so the cluster and the mail service run
# under the same units, journal and resource agents as on the lab's VMs. Nothing here is
# lane-specific: addresses, keys, accounts and the cluster config are written when a lane is
# provisioned. No key, no password is baked in.
set -eu
root=$1

# The cluster and mail services are started by the cluster (or the harness), never at boot.
for unit in corosync pacemaker postfix dovecot; do
  chroot "$root" systemctl disable "$unit.service" 2>/dev/null || true
done
# Units that have nothing to do in a container, or only cost CPU.
for unit in apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer fstrim.timer logrotate.timer \
  dpkg-db-backup.timer e2scrub_reap.service systemd-binfmt.service proc-sys-fs-binfmt_misc.automount \
  getty@tty1.service console-getty.service systemd-logind.service systemd-networkd.service systemd-resolved.service; do
  chroot "$root" systemctl mask "$unit" 2>/dev/null || true
done
# Every container gets its own machine-id at its first boot.
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
# The mail store's mount point (the shared disk is mounted here by Pacemaker, one node at a time).
install -d "$root/srv/mail"
# A journal that survives the power cycle of a fence (the container's own layer keeps it).
mkdir -p "$root/var/log/journal"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
