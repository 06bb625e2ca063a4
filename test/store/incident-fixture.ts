import type { Incident } from '../../src/model/incident.js';

export const T0 = 1_700_000_000_000;

export function incidentFixture(over: Partial<Incident> = {}): Incident {
  return {
    id: 'inc_1',
    startMs: T0,
    endMs: T0 + 60_000,
    anomalyIds: ['an_1'],
    rootCauses: [{ service: 'pricing', operation: 'GET /price', score: 4, reason: 'own time per request grew' }],
    state: 'open',
    severity: 'high',
    services: ['cart', 'frontend'],
    summary: '2 anomalies across 2 service(s)',
    ...over,
  };
}
