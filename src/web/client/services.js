// Services and their endpoints/handlers as the page lists them.

/**
 * The stored history's services (GET /api/v1/services) joined with the detector's live handler
 * figures (GET /api/v1/handlers): keys only the detector knows (handler-only apps, keys with no
 * entry spans) are added with their live figures; every key gets its live window (`slices`) and
 * learned baseline p95 for the heatmap. Sorted by name.
 */
export function joinLiveHandlers(stored, handlers, sliceMs) {
  const byService = new Map(stored.map((s) => [s.name, { ...s, operations: [...(s.operations || [])] }]));
  for (const f of handlers) {
    if (!byService.has(f.service)) byService.set(f.service, { name: f.service, operations: [] });
    const svc = byService.get(f.service);
    const live = { slices: f.slices, baselineP95Ms: f.baselineP95Ms };
    const known = svc.operations.find((o) => o.name === f.handler);
    if (known) {
      Object.assign(known, live);
      // The detector's own figures have a learned baseline: the key is not learning any more.
      if (f.baselineP95Ms !== undefined) known.learning = null;
      continue;
    }
    const windowMs = Math.max(1, (f.slices || []).length * sliceMs);
    svc.operations.push({ name: f.handler, live: true, requests: f.count, errors: f.errors, ratePerSec: f.count / (windowMs / 1000), errorRate: f.errorRate, p95Ms: f.p95Ms, learning: f.baselineP95Ms === undefined ? 'learning' : null, ...live });
  }
  return [...byService.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
