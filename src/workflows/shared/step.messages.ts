import { defineQuery } from '@temporalio/workflow';

/** Every long-running flow answers this query with its current step, shown by `GET /v1/runs/{id}`. */
export const getStepQuery = defineQuery<string>('getStep');
