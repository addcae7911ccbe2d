// The admin API's objects, as the console reads them.

export interface Account {
  id: string;
  name: string;
  plan_id: string | null;
  created_at: string;
}

export type Settings = Record<string, unknown>;

export interface App {
  id: string;
  account_id: string;
  name: string;
  enabled: boolean;
  settings: Settings;
  created_at: string;
  updated_at: string;
}

export interface AppKey {
  key: string;
  app_id: string;
  created_at: string;
  revoked_at: string | null;
  /** Only in the answer that created it. */
  secret?: string;
}

export interface Plan {
  id: string;
  name: string;
  enforcement: string;
  limits: Record<string, number>;
  created_at?: string;
  updated_at?: string;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  details?: unknown;
}
