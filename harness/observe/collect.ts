/**
 * Evidence after a run: each node's journal (since shortly before the fault), corosync log,
 * Pacemaker status and CIB, DRBD status, the mail service's own logs (Axigen's); each power device's log. Written into the run directory
 * (redacted); a node that cannot be reached is noted, never fatal.
 */
import type { RunStore } from '../report/run-store.ts';
import type { StartedTarget } from '../session/target.ts';
import type { ClockOffset } from './clock.ts';
import { mailServiceOf } from '../mail/mail.ts';
import { CRM_MON_XML } from '../cluster/status.ts';

export interface NodeEvidence {
  node: string;
  journal?: string;
  error?: string;
}

const SECTIONS: [string, string][] = [
  ['crm_mon.xml', CRM_MON_XML],
  ['cib.xml', 'cibadmin -Q'],
  ['proc-drbd.txt', 'cat /proc/drbd'],
  ['corosync.log', 'tail -n 3000 /var/log/corosync/corosync.log'],
  ['boots.txt', 'journalctl --list-boots --no-pager'],
];

/** Collects every node's logs and state since `sinceHostMs` into `nodes/<node>/` of the run. */
export async function collectEvidence(lab: StartedTarget, store: RunStore, sinceHostMs: number, offsets: Record<string, ClockOffset>): Promise<NodeEvidence[]> {
  const evidence: NodeEvidence[] = [];
  for (const { name } of lab.plan.nodes) {
    const sinceNode = Math.floor((sinceHostMs + (offsets[name]?.offsetMs ?? 0)) / 1000);
    const journal = await lab.ssh.root(name, `journalctl -o short-unix --no-pager --since @${sinceNode}`, { timeoutMs: 120_000, reject: false });
    if (!journal.ok) {
      evidence.push({ node: name, error: `journal: ${journal.reason}` });
      store.writeText(`nodes/${name}/UNREACHABLE.txt`, `${journal.reason}\n${journal.stderr}\n`);
      continue;
    }
    store.writeText(`nodes/${name}/journal.txt`, journal.stdout);
    for (const [file, command] of SECTIONS) {
      const r = await lab.ssh.root(name, `${command} 2>&1`, { timeoutMs: 60_000, reject: false });
      store.writeText(`nodes/${name}/${file}`, r.stdout);
    }
    // The mail service's own log files, where it keeps them outside the journal (Axigen).
    const mailLogs = mailServiceOf(lab.plan).logScript();
    if (mailLogs) {
      const r = await lab.ssh.root(name, `${mailLogs} 2>&1`, { timeoutMs: 60_000, reject: false });
      store.writeText(`nodes/${name}/mail-service.log`, r.ok ? r.stdout : `${r.reason}\n${r.stdout}`);
    }
    evidence.push({ node: name, journal: journal.stdout });
  }
  // Each node's power log, as its device(s) kept it (bmc/ for the directory's old name: a PDU's outlets land here too).
  for (const power of lab.power) store.writeJson(`bmc/${power.node}-power-log.json`, power.powerLog());
  return evidence;
}
