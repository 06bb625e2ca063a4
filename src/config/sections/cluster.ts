import { z } from 'zod';

const INSTANCE_NAME = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;

export const ClusterPeerSchema = z.strictObject({
  name: z.string().regex(INSTANCE_NAME, 'a DNS label-like name (lowercase letters, digits, . and -), e.g. the pod name').describe('Instance name (the pod name in the StatefulSet)'),
  url: z.string().url().describe("Base URL of the instance's admin server; its event stream is GET <url>/api/v1/events"),
});
export type ClusterPeer = z.infer<typeof ClusterPeerSchema>;

/**
 * Scaled-out instances behind the collector's load_balancing exporter each see part of the
 * traffic. One of them, the correlator, follows the others' anomaly events and groups every
 * instance's anomalies into incidents; the others open no incidents of their own.
 */
export const ClusterSchema = z
  .strictObject({
    instance: z
      .string()
      .default('')
      .refine((s) => s === '' || INSTANCE_NAME.test(s), 'a DNS label-like name (lowercase letters, digits, . and -), e.g. the pod name')
      .describe('This instance\'s name among peers (SELF_HEALING_CLUSTER__INSTANCE from the pod name); empty with no peers = a single instance'),
    peers: z
      .array(ClusterPeerSchema)
      .default([])
      .describe('Every instance of the scaled-out shape (this one may be listed too, it is skipped by name); the correlator authenticates to them with its admin token'),
    correlator: z
      .string()
      .default('')
      .describe('Name of the instance that groups all instances\' anomalies into incidents; empty = the first name in sort order'),
    maxQueue: z.number().int().min(1).default(10_000).describe('Peer anomaly events waiting for the next incident evaluation; beyond it the oldest are dropped and counted'),
    retryMs: z.number().int().min(100).default(2_000).describe('First delay before reconnecting to a peer whose event stream ended; doubles up to 60 s'),
  })
  .prefault({})
  .superRefine((c, ctx) => {
    if (c.peers.length > 0 && c.instance === '') ctx.addIssue({ code: 'custom', path: ['instance'], message: 'required when peers are set (each instance must know its own name)' });
    const seen = new Set<string>();
    c.peers.forEach((p, i) => {
      if (seen.has(p.name)) ctx.addIssue({ code: 'custom', path: ['peers', i, 'name'], message: `duplicate peer name "${p.name}"` });
      seen.add(p.name);
    });
    if (c.correlator !== '' && c.correlator !== c.instance && !seen.has(c.correlator)) {
      ctx.addIssue({ code: 'custom', path: ['correlator'], message: `"${c.correlator}" is neither this instance nor a peer` });
    }
  });
export type ClusterConfig = z.infer<typeof ClusterSchema>;
