#!/bin/sh
# Customises the box's root file system (run by mmdebstrap's customize hook: $1 is the root).
# Nothing here is lab-specific: addresses, accounts, keys and cluster config are written when a
# lab is provisioned. No SSH host key and no login key is baked in.
set -eu
root=$1

# The login user: sudo without password, no password, no key (the lab's own key arrives on the
# kernel command line at boot, see ha-chaos-firstboot below).
chroot "$root" useradd -m -s /bin/bash -u 1000 vagrant
echo 'vagrant ALL=(ALL) NOPASSWD: ALL' > "$root/etc/sudoers.d/vagrant"
chmod 0440 "$root/etc/sudoers.d/vagrant"
install -d -m 0700 -o 1000 -g 1000 "$root/home/vagrant/.ssh"

# Each boot: the host key if missing (ed25519 only: an RSA key costs ~15 s of an emulated CPU at
# first boot), and the lab's login key from `ha_chaos.ssh_key=<base64>`, for the vagrant user
# (Vagrant) and for root (the harness: no sudo, PAM and journal entries per command).
cat > "$root/usr/local/sbin/ha-chaos-firstboot" <<'SH'
#!/bin/sh
[ -f /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    ha_chaos.ssh_key=*)
      for home in /home/vagrant /root; do
        install -d -m 0700 "$home/.ssh"
        echo "${arg#ha_chaos.ssh_key=}" | base64 -d > "$home/.ssh/authorized_keys"
        chmod 0600 "$home/.ssh/authorized_keys"
      done
      chown -R 1000:1000 /home/vagrant/.ssh ;;
  esac
done
SH
chmod 0755 "$root/usr/local/sbin/ha-chaos-firstboot"
cat > "$root/etc/systemd/system/ha-chaos-firstboot.service" <<'UNIT'
[Unit]
Description=ha-chaos: SSH host keys and the lab's login key
Before=ssh.service
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/ha-chaos-firstboot
[Install]
WantedBy=multi-user.target
UNIT
chroot "$root" systemctl enable ha-chaos-firstboot.service
rm -f "$root"/etc/ssh/ssh_host_*
# Fast, quiet sshd: no DNS lookups, one host key, root by key only (the lab's own key).
cat > "$root/etc/ssh/sshd_config.d/ha-chaos.conf" <<'SSHD'
UseDNS no
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
SSHD

# Every VM must get its own machine-id (DHCP client ids derive from it).
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"

# Networking: systemd-networkd; the management NIC (eth0, net.ifnames=0) by DHCP; the lab's
# other NICs are configured at provisioning.
cat > "$root/etc/systemd/network/10-mgmt.network" <<'NET'
[Match]
Name=eth0
[Network]
DHCP=ipv4
[DHCPv4]
ClientIdentifier=mac
NET
chroot "$root" systemctl enable systemd-networkd.service
echo '/dev/vda / ext4 defaults,noatime 0 1' > "$root/etc/fstab"
echo 'drbd' > "$root/etc/modules-load.d/drbd.conf"

# The cluster and mail services are started by the cluster, never at boot.
for unit in corosync pacemaker postfix dovecot drbd; do
  chroot "$root" systemctl disable "$unit.service" 2>/dev/null || true
done
# Background jobs that only steal CPU from an emulated guest.
for unit in apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer fstrim.timer logrotate.timer dpkg-db-backup.timer; do
  chroot "$root" systemctl mask "$unit" 2>/dev/null || true
done
# Boot time under emulation (measured: kernel 18 s + userspace 38 s before this): modules no VM
# node uses cost seconds each to load (cfg80211 13 s, kvm 3 s, the floppy probe 2.5 s), and a 35 MB
# initrd takes 4 s to unpack. The initrd gets only what mounts the root disk.
cat > "$root/etc/modprobe.d/ha-chaos-blacklist.conf" <<'MOD'
blacklist cfg80211
blacklist rfkill
blacklist kvm
blacklist kvm_amd
blacklist kvm_intel
blacklist ccp
blacklist irqbypass
blacklist pcspkr
blacklist floppy
blacklist drm
blacklist serio_raw
blacklist virtio_balloon
blacklist psmouse
MOD
for unit in e2scrub_reap.service systemd-binfmt.service proc-sys-fs-binfmt_misc.automount modprobe@drm.service; do
  chroot "$root" systemctl mask "$unit" 2>/dev/null || true
done
echo 'MODULES=list' > "$root/etc/initramfs-tools/conf.d/ha-chaos.conf"
printf '%s\n' virtio_pci virtio_blk ext4 crc32c_generic > "$root/etc/initramfs-tools/modules"
chroot "$root" update-initramfs -u -k all

# A journal that survives the reboot after fencing (evidence for the report).
mkdir -p "$root/var/log/journal"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
