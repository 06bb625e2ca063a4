import { describe, expect, it } from 'vitest';
import { clusterRole } from '../../src/diagnose/cluster-role.js';
import { ConfigSchema } from '../../src/config/schema.js';

const peers = [
  { name: 'self-healing-1', url: 'http://self-healing-1.self-healing-headless:8787' },
  { name: 'self-healing-0', url: 'http://self-healing-0.self-healing-headless:8787' },
  { name: 'self-healing-2', url: 'http://self-healing-2.self-healing-headless:8787' },
];

describe('clusterRole', () => {
  it('is standalone without peers, or when the only peer listed is this instance', () => {
    expect(clusterRole({ instance: '', peers: [], correlator: '' })).toEqual({ role: 'standalone' });
    expect(clusterRole({ instance: 'self-healing-0', peers: [peers[1]!], correlator: '' })).toEqual({ role: 'standalone' });
  });

  it('makes the first name the correlator, following every other instance, from one shared list', () => {
    const roles = peers.map((p) => clusterRole({ instance: p.name, peers, correlator: '' }));
    expect(roles[1]).toEqual({ role: 'correlator', instance: 'self-healing-0', follow: [peers[0], peers[2]] });
    expect(roles[0]).toEqual({ role: 'member', instance: 'self-healing-1', correlator: 'self-healing-0' });
    expect(roles[2]).toEqual({ role: 'member', instance: 'self-healing-2', correlator: 'self-healing-0' });
  });

  it('honours a configured correlator', () => {
    expect(clusterRole({ instance: 'self-healing-2', peers, correlator: 'self-healing-2' }).role).toBe('correlator');
    expect(clusterRole({ instance: 'self-healing-0', peers, correlator: 'self-healing-2' }).role).toBe('member');
  });
});

describe('cluster configuration', () => {
  const issues = (cluster: unknown): string[] => {
    const r = ConfigSchema.safeParse({ cluster });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('accepts the StatefulSet shape and defaults to a single instance', () => {
    expect(issues({ instance: 'self-healing-0', peers })).toEqual([]);
    expect(ConfigSchema.parse({}).cluster).toMatchObject({ instance: '', peers: [], correlator: '', maxQueue: 10_000 });
  });

  it('names the field and the problem for bad settings', () => {
    expect(issues({ peers })).toEqual(['cluster.instance: required when peers are set (each instance must know its own name)']);
    expect(issues({ instance: 'a', peers: [{ name: 'b', url: 'http://b' }, { name: 'b', url: 'http://c' }] })).toEqual(['cluster.peers.1.name: duplicate peer name "b"']);
    expect(issues({ instance: 'a', peers: [{ name: 'b', url: 'http://b' }], correlator: 'z' })).toEqual(['cluster.correlator: "z" is neither this instance nor a peer']);
    expect(issues({ instance: 'A B', peers: [] })[0]).toMatch(/^cluster.instance: a DNS label-like name/);
    expect(issues({ instance: 'a', peers: [{ name: 'b', url: 'not a url' }] })[0]).toMatch(/^cluster.peers.0.url/);
  });
});
