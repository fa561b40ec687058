/**
 * The mail-service seam: what the cluster serves mail with, as provisioning, the Pacemaker
 * configuration, the faults and the evidence see it. Two implementations: the open stand-in
 * (Postfix + Dovecot, postfix-dovecot.ts) and Axigen installed from a package the user supplies
 * (axigen.ts). The workload and every check are the same for both: SMTP in, IMAP and POP3 out,
 * through the virtual IP.
 */
import type { LabSecrets } from '../cluster/lab-config.ts';
import type { LabPlan } from '../cluster/lab-config.ts';
import type { VersionProbe } from '../cluster/versions.ts';

/** Renders a heredoc that writes `content` to `path` with `mode` (provisioning's own writer). */
export type FileWriter = (path: string, content: string, mode?: string) => string;

export interface MailService {
  /** Which service this is (a plan's `mailService`). */
  readonly kind: 'postfix-dovecot' | 'axigen';
  /** In words, for reports and `lab status`. */
  describe(): string;
  /** Lines of each node's provisioning: install, configure, resource agents, accounts; never started on boot. */
  provision(plan: LabPlan, secrets: LabSecrets, file: FileWriter): string[];
  /** Lays out a new mail store, run where its file system is mounted (its data directories). */
  layout(plan: LabPlan): string[];
  /** The ids of its Pacemaker resources (the journal's `<id>-started` phases). */
  readonly resourceIds: readonly string[];
  /** The Pacemaker primitives (crm shell) and their ids: each runs with the store group and after it. */
  resources(plan: LabPlan): { names: string[]; crm: string[] };
  /** Where the store is mounted: flushes the mail queue and prints `queued N`; prints nothing elsewhere. Null: the queue is not read. */
  queueScript(): string | null;
  /** Makes a running service read its changed configuration. */
  reloadScript(): string;
  /** A command printing the service's own recent log files for the run's evidence, or null when its logs are the journal's. */
  logScript(): string | null;
  /** The name `user` logs in with over IMAP and POP3 (Axigen resolves a bare name against its primary domain: the full address is unambiguous). */
  loginName(user: string, domain: string): string;
  /** The SMTP service's process for the kill fault: the command line `pkill -f` matches, and its name. */
  readonly smtpProcess: { commandLine: string; name: string };
  /** The service's versions a run records (read on each node, installed or not yet started). */
  readonly versions: readonly VersionProbe[];
}

/** The mail services there are. */
export type MailServiceKind = MailService['kind'];
