/** Whether a run was overloaded, on literal samples. */
import test from 'ava';
import { overloadReasons } from '../../harness/check/overload.ts';
import type { Observations } from '../../harness/check/observations.ts';

const fault = { name: 'power-cut-active', node: 'node1', injectedAt: 100_000 };

test('a quiet run is not overloaded', (t) => {
  const observations: Pick<Observations, 'throttle' | 'load' | 'fault'> = {
    fault,
    load: { guests: [{ node: 'node2', time: 110_000, load1: 1.9 }], host: [{ time: 110_000, load1: 2.1 }] },
  };
  t.deepEqual(overloadReasons({ observations, vcpus: 1, hostCores: 2 }), []);
});

test('throttling, a guest far over its vCPUs and a host over its cores are each named', (t) => {
  const observations: Pick<Observations, 'throttle' | 'load' | 'fault'> = {
    fault,
    throttle: [
      { node: 'node2', at: 20_000, text: 'too early to count' },
      { node: 'node2', at: 105_000, text: 'High CPU load detected: 5.28' },
    ],
    load: {
      guests: [
        { node: 'node2', time: 110_000, load1: 8.5 },
        { node: 'node1', time: 110_000, load1: 0.2 },
      ],
      host: [{ time: 110_000, load1: 7.2 }],
    },
  };
  t.deepEqual(overloadReasons({ observations, vcpus: 1, hostCores: 2 }), [
    'Pacemaker throttled itself for load 1 time(s) on node2 ("High CPU load detected: 5.28")',
    'guest load on node2 reached 8.5 (budget: under 1.0 idle, 6 counts as overloaded for 1 vCPU)',
    'host load reached 7.20 on 2 cores',
  ]);
  t.deepEqual(overloadReasons({ observations, vcpus: 2, hostCores: 4 }).length, 1, 'two vCPUs and four cores carry that load');
  t.deepEqual(overloadReasons({ observations: { fault, load: { guests: [{ node: 'node1', time: 110_000, load1: 4.4 }], host: [{ time: 110_000, load1: 3.7 }] } }, vcpus: 1, hostCores: 2 }), [], 'the peaks of a healthy power cut on this host');
});

test('a host saturated through most of the failover is named, although its load average lags under the bound', (t) => {
  const host = (busy: number[]) => busy.map((busyPercent, i) => ({ time: 100_000 + i * 5000, load1: 3.8, busyPercent }));
  const hogged = { fault, phases: { 'service-answering': 150_000 }, load: { guests: [], host: host([100, 100, 99.9, 100, 87.3, 100, 100, 100, 100, 100, 100, 63.8]) } };
  t.deepEqual(overloadReasons({ observations: hogged, vcpus: 1, hostCores: 2 }), ["the host's CPU was saturated (>= 95% busy) in 10 of 11 samples of the failover"]);
  const healthy = { fault, phases: { 'service-answering': 150_000 }, load: { guests: [], host: host([100, 100, 100, 90, 60, 43, 100, 70, 52, 100, 88]) } };
  t.deepEqual(overloadReasons({ observations: healthy, vcpus: 1, hostCores: 2 }), [], 'a healthy power cut keeps the host busy in bursts, not throughout');
  t.deepEqual(overloadReasons({ observations: { fault, load: { guests: [], host: host([100, 100, 100]) } }, vcpus: 1, hostCores: 2 }), [], 'too few samples to say');
});
