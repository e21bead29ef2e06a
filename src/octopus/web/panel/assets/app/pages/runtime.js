// Live routing state of every group from the runtime SSE stream, and a 1-second clock for countdowns.
import { useEffect, useState } from '../lib.js';
import { subscribe } from '../api.js';

export function useRuntime() {
  const [states, setStates] = useState({});
  const [conn, setConn] = useState('connecting');
  useEffect(() => subscribe('group/runtime/stream', 'runtime',
    (s) => setStates((prev) => ({ ...prev, [s.group_id]: s })), setConn), []);
  return [states, conn];
}

export function useNow(active) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return undefined;
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, [active]);
  return now;
}

// Badges for one member: in use, probing, cooling down (seconds left), affinity.
export function memberState(state, itemId, now) {
  if (!state) return {};
  const until = Number(state.cooldowns?.[itemId]) || 0;
  return {
    current: state.current_item_id === itemId,
    probing: state.probe_item_id === itemId,
    failures: Number(state.failures?.[itemId]) || 0,
    cooling: until > now ? Math.ceil((until - now) / 1000) : 0,
    affinity: state.current_item_id === itemId && Number(state.affinity_until) > now
      ? Math.ceil((state.affinity_until - now) / 1000) : 0,
  };
}
