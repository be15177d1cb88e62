import type { EntitySyncInput } from './entity-sync.messages';
import { runEntityLoop } from './shared/entity-loop';
import type { EntityLoopResult } from './shared/entity-loop';
import { syncActivityOptions } from './shared/policies';
import { activitiesOf } from './shared/proxies';

/**
 * One workflow per SKU (`inventory:<sku>`): a stock change sets Stock_Available__c on the open
 * Opportunities for that material and is announced as `inventory.changed`. Stock versions only grow,
 * so an event older than the last applied one is stale and dropped.
 */
export async function inventorySync(input: EntitySyncInput): Promise<EntityLoopResult> {
  const sf = activitiesOf('salesforce', syncActivityOptions);
  return runEntityLoop(input, inventorySync, async (event, ctx) => {
    if (event.kind !== 'inventory.stock_changed')
      return { outcome: 'ignored', detail: `inventorySync does not handle ${event.kind}` };
    const version = Number(event.fields.version);
    const quantity = Number(event.fields.quantity);
    const lastVersion = Number(ctx.state.links.stockVersion ?? '0');
    if (Number.isFinite(version) && version <= lastVersion) {
      return { outcome: 'stale', detail: `version ${version} is not newer than ${lastVersion}` };
    }
    const { updated } = await sf.updateStockForMaterial({ material: event.recordId, quantity });
    ctx.state.links.stockVersion = String(version);
    ctx.state.links.quantity = String(quantity);
    ctx.state.lastSynced.inventory = event.occurredAt;
    await ctx.publish('inventory.changed', event, {
      sku: event.recordId,
      warehouse: event.fields.warehouse,
      quantity,
      previousQuantity: event.fields.previousQuantity,
      version,
      changedAt: event.occurredAt,
      opportunitiesUpdated: updated.length,
    });
    return { outcome: 'applied', detail: `stock ${quantity} on ${updated.length} open Opportunities` };
  });
}
