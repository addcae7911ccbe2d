// The plans, loaded once per page that names them.

import { get, type ListPage } from '../api';
import { useLoad } from '../hooks';
import type { Plan } from '../types';

/** The largest page the API gives; a deployment has few plans. */
export const PLAN_PAGE = 500;

/** All plans (the first PLAN_PAGE of them). */
export function usePlans() {
  return useLoad((signal) => get<ListPage<Plan>>('/plans', { limit: PLAN_PAGE }, signal), []);
}

/** A function naming a plan id: its name, or "No plan (unlimited)". */
export function usePlanNames(): (id: string | null) => string {
  const plans = usePlans();
  return (id) => {
    if (!id) return 'No plan (unlimited)';
    return plans.data?.items.find((p) => p.id === id)?.name ?? id;
  };
}
