#!/usr/bin/env python3
# pdu-outlets: the outlets of one virtual switched PDU, served to net-snmp's snmpd through its
# pass_persist protocol (snmpd.conf: `pass_persist .1.3.6.1.4.1.318 pdu-outlets <pdu-dir>`).
# It answers the part of APC's PowerNet MIB that an APC rack PDU (rPDU) answers and that
# fence_apc_snmp uses, unmodified:
#   .1.3.6.1.4.1.318.1.1.12.3.3.1.1.4.N  rPDUOutletControlOutletCommand  (rw: 1 on, 2 off, 3 reboot)
#   .1.3.6.1.4.1.318.1.1.12.3.5.1.1.2.N  rPDUOutletStatusOutletName      (the outlet's label)
#   .1.3.6.1.4.1.318.1.1.12.3.5.1.1.4.N  rPDUOutletStatusOutletState     (1 on, 2 off)
#
# <pdu-dir>/outlets.json: {"pdu": "pdu1", "machines": "<dir>", "outlets": [{"outlet": 1, "node": "node1",
#                         "label": "node1-psu1"}, ...], "supplies": {"node1": ["pdu1:1", "pdu2:1"], ...}}
# <machines>/<node>/supplies/<pdu>:<outlet>: each supply's on/off state, shared by every PDU that
#                         feeds the node (a node on two PDUs is off only when both outlets are);
#                         kept across a PDU restart, as a real PDU's relays are. Missing = on.
# <pdu-dir>/faults.env:   FAULT_MODE=normal|fail|ignore, FAULT_DELAY_MS=N (for every set request)
# <pdu-dir>/power.log:    one JSON line per set request: time (host clock, epoch ms), outlet,
#                         node, request, value, result. The fencing checker's ground truth.
# <machines>/<node>/control: the chassis-control program of the machine the outlets feed (one per
#                         node, shared by the PDUs), serialised by an flock on <machines>/<node>/lock.
#
# A machine loses power only when every outlet that feeds it is off (two power supplies), and
# gets it back when one of them comes on. snmpd runs this program once and talks to it over
# stdin/stdout for as long as it runs, so it must never block on anything but its own delay.
import fcntl
import json
import os
import subprocess
import sys
import time

CONTROL = '.1.3.6.1.4.1.318.1.1.12.3.3.1.1.4'
NAME = '.1.3.6.1.4.1.318.1.1.12.3.5.1.1.2'
STATE = '.1.3.6.1.4.1.318.1.1.12.3.5.1.1.4'
ON, OFF, REBOOT = 1, 2, 3

pdu_dir = sys.argv[1]
config = json.load(open(os.path.join(pdu_dir, 'outlets.json')))
pdu_name = config['pdu']
machines = config['machines']
outlets = {o['outlet']: o for o in config['outlets']}
supplies = config['supplies']


def supply_file(node, supply):
    return os.path.join(machines, node, 'supplies', supply)


def supply_state(node, supply):
    try:
        return open(supply_file(node, supply)).read().strip() or 'on'
    except OSError:
        return 'on'


def outlet_state(n):
    return supply_state(outlets[n]['node'], f'{pdu_name}:{n}')


def faults():
    mode, delay = 'normal', 0
    try:
        for line in open(os.path.join(pdu_dir, 'faults.env')):
            key, _, value = line.strip().partition('=')
            if key == 'FAULT_MODE':
                mode = value
            elif key == 'FAULT_DELAY_MS':
                delay = int(value or 0)
    except (OSError, ValueError):
        pass
    return mode, delay


def log(outlet, value, result, detail=''):
    entry = {'time': int(time.time() * 1000), 'outlet': outlet, 'node': outlets[outlet]['node'], 'request': 'power', 'value': value, 'result': result, 'detail': detail}
    with open(os.path.join(pdu_dir, 'power.log'), 'a') as f:
        f.write(json.dumps(entry) + '\n')


def machine(node, value):
    """Powers the machine on (1) or off (0) through its chassis control; returns an error or ''."""
    control = os.path.join(machines, node, 'control')
    try:
        r = subprocess.run([control, 'set', 'power', value], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30, close_fds=True)
        return '' if r.returncode == 0 else r.stdout.decode(errors='replace').strip()[-200:] or f'exit {r.returncode}'
    except subprocess.TimeoutExpired:
        return 'machine power control timed out after 30 s'


def fed(node):
    """True when at least one supply of `node`, on any PDU, is on."""
    return any(supply_state(node, s) == 'on' for s in supplies[node])


def switch(outlet, want):
    """Sets one outlet on or off; the machine follows when its last supply goes or its first returns."""
    node = outlets[outlet]['node']
    with open(os.path.join(machines, node, 'lock'), 'a') as lock:
        # Every PDU feeding the node decides under the same lock: two outlets switched at once
        # (by two PDUs) see each other's state, and only the last one off cuts the power.
        fcntl.flock(lock, fcntl.LOCK_EX)
        before = fed(node)
        path = supply_file(node, f'{pdu_name}:{outlet}')
        with open(path + '.tmp', 'w') as f:
            f.write(want)
        os.replace(path + '.tmp', path)
        after = fed(node)
        if before and not after:
            return machine(node, '0')
        if after and not before:
            return machine(node, '1')
        return ''


def command(outlet, value):
    mode, delay = faults()
    if delay > 0:
        time.sleep(delay / 1000)
    words = {ON: '1', OFF: '0', REBOOT: 'reset'}
    if mode == 'fail':
        log(outlet, words[value], 'failed', 'fault: the PDU refuses power requests')
        return 'commit-failed'
    if mode == 'ignore':
        log(outlet, words[value], 'ignored', 'fault: acknowledged, nothing done')
        return 'DONE'
    if value == REBOOT:
        error = switch(outlet, 'off') or (time.sleep(1) or switch(outlet, 'on'))
    else:
        error = switch(outlet, 'on' if value == ON else 'off')
    log(outlet, words[value], 'failed' if error else 'done', error)
    return 'commit-failed' if error else 'DONE'


def oid_key(oid):
    return tuple(int(p) for p in oid.strip('.').split('.') if p != '')


def table():
    """Every object this PDU serves, in OID order: [(oid, type, value)]."""
    rows = []
    for base, kind, value in ((CONTROL, 'integer', lambda n: ON if outlet_state(n) == 'on' else OFF), (NAME, 'string', lambda n: outlets[n].get('label', outlets[n]['node'])), (STATE, 'integer', lambda n: ON if outlet_state(n) == 'on' else OFF)):
        for n in sorted(outlets):
            rows.append((f'{base}.{n}', kind, value(n)))
    return sorted(rows, key=lambda r: oid_key(r[0]))


def reply(*lines):
    sys.stdout.write(''.join(f'{line}\n' for line in lines))
    sys.stdout.flush()


def main():
    while True:
        verb = sys.stdin.readline()
        if not verb:
            return
        verb = verb.strip()
        if verb == 'PING':
            reply('PONG')
        elif verb in ('get', 'getnext'):
            oid = sys.stdin.readline().strip()
            rows = table()
            if verb == 'get':
                row = next((r for r in rows if r[0] == oid), None)
            else:
                row = next((r for r in rows if oid_key(r[0]) > oid_key(oid)), None)
            reply(*row) if row else reply('NONE')
        elif verb == 'set':
            oid = sys.stdin.readline().strip()
            kind, _, value = sys.stdin.readline().strip().partition(' ')
            prefix, _, outlet = oid.rpartition('.')
            if prefix != CONTROL or not outlet.isdigit() or int(outlet) not in outlets:
                reply('not-writable')
            elif kind != 'integer':
                reply('wrong-type')
            elif value not in ('1', '2', '3'):
                reply('wrong-value')
            else:
                reply(command(int(outlet), int(value)))
        elif verb:
            reply('NONE')


main()
