import type { ClusterConfig, ClusterPeer } from '../config/index.js';

/**
 * What this instance does about incidents in a scaled-out shape:
 * - standalone: no peers; it groups its own anomalies, as a single sidecar does;
 * - correlator: it follows every other instance's anomaly events and groups them with its own;
 * - member: it detects and heals what is routed to it, publishes its anomalies, and leaves
 *   incidents to the correlator (so one fault is one incident, not one per instance).
 * Every instance computes the same answer from the same configuration: the correlator is the
 * configured one, or the first name in sort order.
 */
export type ClusterRole =
  | { role: 'standalone' }
  | { role: 'correlator'; instance: string; follow: ClusterPeer[] }
  | { role: 'member'; instance: string; correlator: string };

export function clusterRole(cluster: Pick<ClusterConfig, 'instance' | 'peers' | 'correlator'>): ClusterRole {
  const others = cluster.peers.filter((p) => p.name !== cluster.instance);
  if (others.length === 0) return { role: 'standalone' };
  const correlator = cluster.correlator !== '' ? cluster.correlator : [cluster.instance, ...others.map((p) => p.name)].sort()[0]!;
  if (correlator === cluster.instance) return { role: 'correlator', instance: cluster.instance, follow: others };
  return { role: 'member', instance: cluster.instance, correlator };
}
