/**
 * The mail-service seam's variants: {@link mailServiceOf} gives the one a plan names (the
 * contract is mail-service.ts). Nothing outside harness/mail/ branches on the kind.
 */
import { axigenService } from './axigen.ts';
import type { MailService, MailServiceKind } from './mail-service.ts';
import { postfixDovecot } from './postfix-dovecot.ts';

/** The mail service a plan names (a lab: Axigen when `mail.package` is given, else the open stand-in). */
export function mailServiceOf(plan: { mailService: MailServiceKind }): MailService {
  return plan.mailService === 'axigen' ? axigenService : postfixDovecot;
}
