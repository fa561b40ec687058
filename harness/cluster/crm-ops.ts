/** ` op <name> ...` clauses (crm shell): every operation of a resource with an explicit timeout (none left at an agent default). */
export function crmOps(list: Array<[name: string, timeout: string, interval?: string, role?: string]>): string {
  return list.map(([name, timeout, interval, role]) => ` op ${name}${interval ? ` interval=${interval}` : ''}${role ? ` role=${role}` : ''} timeout=${timeout}`).join('');
}
