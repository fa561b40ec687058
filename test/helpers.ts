/** Shared test fixtures: temporary state roots, free ports, stand-in machines. */
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The shape of an OpenSSH private key (not a usable one): what a target file's key must look like. */
export const FAKE_SSH_KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEgcmVhbCBrZXk=\n-----END OPENSSH PRIVATE KEY-----\n';

/** A fresh directory under the system temp dir. */
export function tempDir(prefix = 'ha-chaos-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A UDP port nobody is bound to right now (the kernel picks it). */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** A stand-in machine: each boot appends a line to `bootLog`, then it runs until killed. */
export function standInCommand(bootLog: string): string {
  return `sh -c 'echo boot >> ${bootLog}; exec sleep 100000'`;
}

/** How many times the stand-in booted. */
export function boots(bootLog: string): number {
  return existsSync(bootLog) ? readFileSync(bootLog, 'utf8').split('\n').filter(Boolean).length : 0;
}
