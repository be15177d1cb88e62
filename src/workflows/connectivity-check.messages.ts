import { defineQuery } from '@temporalio/workflow';

export interface ConnectivityTarget {
  system: string;
  url: string;
}

export interface ConnectivityCheckInput {
  targets: ConnectivityTarget[];
}

export interface ConnectivityResult {
  system: string;
  url: string;
  status: number;
  attempts: number;
  latencyMs: number;
}

export interface ConnectivityCheckResult {
  results: ConnectivityResult[];
}

export const getProgressQuery = defineQuery<{ checked: number; total: number }>('getProgress');
