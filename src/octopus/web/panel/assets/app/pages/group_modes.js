// Load-balancing modes and routing settings of a group, with their explanations.
export const MODES = ['failover', 'round_robin', 'random', 'weighted', 'manual'];

export const RELAY_FIELDS = [
  { key: 'first_token_timeout', unit: 's', def: 30 },
  { key: 'response_timeout', unit: 's', def: 120 },
  { key: 'max_attempts', unit: '', def: 3 },
  { key: 'retry_interval', unit: 's', def: 0 },
  { key: 'cooldown', unit: 's', def: 60 },
  { key: 'cooldown_max', unit: 's', def: 600 },
  { key: 'failure_threshold', unit: '', def: 1 },
  { key: 'sticky_seconds', unit: 's', def: 0 },
  { key: 'request_deadline', unit: 's', def: 600 },
];
