/**
 * The storage seam's variants: {@link storeOf} gives the one a plan names (the contract is
 * store-backend.ts). Nothing outside harness/storage/ branches on the kind.
 */
import type { StorageKind } from '../cluster/plan.ts';
import { drbdStore } from './drbd.ts';
import { sharedStore } from './shared.ts';
import type { StoreBackend } from './store-backend.ts';

/** The store backend a lab's config names. */
export function storeOf(plan: { storage: StorageKind }): StoreBackend {
  switch (plan.storage) {
    case 'drbd':
      return drbdStore;
    case 'shared':
      return sharedStore;
    default:
      throw new Error(`storage ${JSON.stringify(plan.storage)} is not built yet`);
  }
}
