/** Fault kind -> implementation. */
import type { FaultKind } from '../scenario/scenario.ts';
import type { Fault } from './fault.ts';
import type { TargetTraits } from '../session/target.ts';
import { hardResetActive, powerCutActive, powerCutBmcDeadActive, powerCutSlowBmcActive, powerLossActive } from './bmc-faults.ts';
import { diskFullActive } from './store-faults.ts';
import { diskDeathActive, storePathLossActive } from './disk-faults.ts';
import { diskBadSectorsActive, diskDroppedWritesPassive, diskHungActive, diskSlowActive, diskWriteErrorsActive } from './dm-faults.ts';
import { replicationLossThenPowerCutActive } from './combined.ts';
import { clockJumpActive, freezeActive, kernelPanicActive } from './machine-faults.ts';
import { clientNicLossActive, heartbeatDegradedActive, heartbeatLossActive, killCorosyncActive, killMailServiceActive, killPacemakerControllerActive, oneRingLossActive, oneRingOneWayLossActive, replicationLossActive } from './node-faults.ts';

/** Every fault kind's implementation: a kind without one does not compile. */
const FAULTS: Record<FaultKind, Fault> = {
  'power-cut-active': powerCutActive,
  'hard-reset-active': hardResetActive,
  'one-ring-loss-active': oneRingLossActive,
  'heartbeat-loss-active': heartbeatLossActive,
  'kill-mail-service-active': killMailServiceActive,
  'kill-corosync-active': killCorosyncActive,
  'freeze-active': freezeActive,
  'replication-loss-active': replicationLossActive,
  'client-nic-loss-active': clientNicLossActive,
  'kernel-panic-active': kernelPanicActive,
  'power-cut-bmc-dead-active': powerCutBmcDeadActive,
  'power-cut-slow-bmc-active': powerCutSlowBmcActive,
  'heartbeat-degraded-active': heartbeatDegradedActive,
  'disk-full-active': diskFullActive,
  'clock-jump-active': clockJumpActive,
  'replication-loss-then-power-cut-active': replicationLossThenPowerCutActive,
  'disk-death-active': diskDeathActive,
  'one-ring-one-way-loss-active': oneRingOneWayLossActive,
  'kill-pacemaker-controller-active': killPacemakerControllerActive,
  'store-path-loss-active': storePathLossActive,
  'power-loss-active': powerLossActive,
  'disk-bad-sectors-active': diskBadSectorsActive,
  'disk-write-errors-active': diskWriteErrorsActive,
  'disk-dropped-writes-passive': diskDroppedWritesPassive,
  'disk-slow-active': diskSlowActive,
  'disk-hung-active': diskHungActive,
};

/** Why a scenario's fault has no meaning for the target (its architecture, its methods), or undefined when it applies. */
export function notApplicable(kind: FaultKind, traits: TargetTraits): string | undefined {
  return faultFor(kind).notApplicable?.(traits);
}

export function faultFor(kind: FaultKind): Fault {
  const fault = FAULTS[kind] as Fault | undefined;
  if (!fault) throw new Error(`no fault ${String(kind)} (there are: ${Object.keys(FAULTS).join(', ')})`);
  return fault;
}
