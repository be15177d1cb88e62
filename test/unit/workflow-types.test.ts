import { describe, expect, it } from 'vitest';
import { serviceWorkflowTypes } from '../../src/workflows/workflow-types';

describe('workflow types', () => {
  it('lists exactly the workflow types the worker registers as this service’s', async () => {
    const workflows = await import('../../src/workflows');
    expect([...serviceWorkflowTypes].sort()).toEqual(Object.keys(workflows).sort());
  });
});
