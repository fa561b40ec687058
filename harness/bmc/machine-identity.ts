/**
 * Which machine a BMC powers, as the machine itself would say it. A real BMC answers `Get System
 * GUID` (`ipmitool mc guid`) with its server's SMBIOS system UUID, the same one the running OS
 * reads from /sys/class/dmi/id/product_uuid: comparing the two proves, without powering anything
 * off, that a fence device reaches its own node's machine and not the peer's. The virtual BMC
 * answers with its machine's identity the same way: a VM's libvirt domain UUID (QEMU puts it in
 * the VM's SMBIOS table), or a container's ID (a container reads the host's SMBIOS UUID, so its
 * identity is the ID docker gives it, which its node reads from its own /etc/hostname mount).
 */
import { run } from '../core/exec.ts';
import type { Logger } from '../core/log.ts';
import type { PowerTargetSpec } from './bmc-config.ts';

/** 32 lowercase hex digits: a UUID without dashes, or the first half of a container ID. Undefined for anything else. Pure. */
export function normalizeIdentity(value: string | undefined): string | undefined {
  const hex = (value ?? '').trim().toLowerCase().replace(/-/g, '');
  if (/^[0-9a-f]{64}$/.test(hex)) return hex.slice(0, 32);
  return /^[0-9a-f]{32}$/.test(hex) ? hex : undefined;
}

/** A normalized identity written as a UUID (8-4-4-4-12). Pure. */
export function identityAsUuid(identity: string): string {
  return `${identity.slice(0, 8)}-${identity.slice(8, 12)}-${identity.slice(12, 16)}-${identity.slice(16, 20)}-${identity.slice(20)}`;
}

/**
 * The 16 bytes (hex) ipmi_sim's lan.conf `guid` must hold so that `ipmitool mc guid` prints
 * `identity`: ipmitool decodes the GUID in SMBIOS order, whose first three fields are
 * little-endian (measured: guid a0b1c2d3e4f5061728394a5b6c7d8e9f prints as
 * d3c2b1a0-f5e4-1706-2839-4a5b6c7d8e9f). Pure.
 */
export function lanGuidHex(identity: string): string {
  const swap = (hex: string) => hex.match(/../g)!.reverse().join('');
  return `${swap(identity.slice(0, 8))}${swap(identity.slice(8, 12))}${swap(identity.slice(12, 16))}${identity.slice(16)}`;
}

/** The `System GUID` line of `ipmitool mc guid` (with `dump`: the 16 bytes as the BMC sent them), normalized; undefined when there is none. Pure. */
export function parseSystemGuid(output: string): string | undefined {
  return normalizeIdentity(/^System GUID\s*:\s*(\S+)/m.exec(output)?.[1]);
}

/**
 * The identities 16 raw GUID bytes may stand for. BMCs encode the system GUID in one of three
 * ways (SMBIOS order: the first three fields little-endian, what most servers and ipmi_sim send;
 * RFC 4122 order; the IPMI specification's all-bytes-reversed order), and ipmitool's own decoding
 * guesses between them from the version nibble (measured: a VM's v4 UUID and a container's random
 * ID decoded differently). The raw bytes (`mc guid dump`) read in all three ways never guess. Pure.
 */
export function guidReadings(raw: string): string[] {
  const reversed = raw.match(/../g)!.reverse().join('');
  return [...new Set([lanGuidHex(raw), raw, reversed])];
}

/** The identity of the machine a BMC powers, asked of the hypervisor or docker; undefined for a stand-in process or when it cannot be read. */
export async function machineIdentity(target: PowerTargetSpec, log?: Logger): Promise<string | undefined> {
  if (target.kind === 'libvirt') {
    const r = await run('virsh', ['-c', target.uri ?? 'qemu:///system', 'domuuid', target.domain], { timeoutMs: 30_000, reject: false, log, node: 'host', phase: 'machine identity' });
    return r.ok ? normalizeIdentity(r.stdout) : undefined;
  }
  if (target.kind === 'docker') {
    const r = await run('docker', ['inspect', '--format', '{{.Id}}', target.container], { timeoutMs: 30_000, reject: false, log, node: 'host', phase: 'machine identity' });
    return r.ok ? normalizeIdentity(r.stdout) : undefined;
  }
  return undefined;
}

/**
 * The node-side script that prints the node's own identity: a container's ID where the node is a
 * container (from the source of its /etc/hostname mount), else the SMBIOS system UUID. One line,
 * `identity <value>` or `identity unknown`.
 */
export const NODE_IDENTITY_SCRIPT = [
  "cid=$(sed -n 's#.*/containers/\\([0-9a-f]\\{64\\}\\)/hostname .*#\\1#p' /proc/1/mountinfo 2>/dev/null | sed -n 1p)",
  'if [ -n "$cid" ]; then echo "identity $cid"',
  'elif [ -r /sys/class/dmi/id/product_uuid ]; then echo "identity $(cat /sys/class/dmi/id/product_uuid)"',
  'else echo "identity unknown"; fi',
].join('\n');
