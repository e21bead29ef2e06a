// One place that maps a log record from the API (live stream, list or detail) to what the views show.
const num = (...vals) => {
  for (const v of vals) if (v !== undefined && v !== null && v !== '' && !Number.isNaN(Number(v))) return Number(v);
  return 0;
};

function durationMs(r) {
  if (r.duration_ms !== undefined) return num(r.duration_ms);
  if (r.use_time !== undefined) return num(r.use_time);
  // the Go stream sends a time.Duration in nanoseconds
  return r.duration ? num(r.duration) / 1e6 : 0;
}

export function normLog(r) {
  const u = r.usage || {};
  return {
    raw: r,
    // live records have no database id yet; the request id works for the detail routes too
    key: r.request_id || String(r.id),
    id: r.request_id || r.id,
    status: r.status || (r.error ? 'failed' : 'success'),
    started: r.started_at ?? r.time ?? r.created_at,
    duration: durationMs(r),
    firstToken: num(r.first_token_ms, r.ftut, r.first_token_time),
    model: r.model || r.request_model_name || r.request_model || '',
    channel: r.channel_name || r.target_channel || '',
    channelId: r.channel_id ?? r.channel,
    target: r.upstream_model || r.target_model || r.actual_model_name || '',
    keyName: r.api_key_name || r.request_api_key_name || '',
    input: num(r.input_tokens, u.input_tokens, u.prompt_tokens, u.input),
    output: num(r.output_tokens, u.output_tokens, u.completion_tokens, u.output),
    cached: num(r.cache_read_tokens, u.cache_read_tokens, u.cache_read, u.cached_tokens),
    cost: num(r.cost),
    round: num(r.total_attempts, Array.isArray(r.attempts) ? r.attempts.length : 0, r.round),
    error: r.error || '',
    stream: r.stream,
    inbound: r.client_format || r.inbound || '',
    outbound: r.upstream_format || r.outbound || '',
    httpStatus: num(r.http_status),
    estimated: !!r.estimated,
    losses: Array.isArray(r.losses) ? r.losses : [],
    attempts: Array.isArray(r.attempts) ? r.attempts : [],
    sending: !!r.sending,
  };
}

export const RUNNING = new Set(['running', 'committed']);

export function statusKind(status) {
  return { success: 'ok', failed: 'err', canceled: 'warn', stopped: 'warn', running: 'info', committed: 'info' }[status] || '';
}
