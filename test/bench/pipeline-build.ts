/**
 * The hot-path modules a COMPONENT benchmark drives (config schema, detection engine, incident
 * engine, protobuf decoder), from this build or, for a before/after comparison, from another
 * build's compiled `dist` directory (`--from <dist>`).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ownConfig from '../../src/config/schema.js';
import * as ownEngine from '../../src/detect/engine.js';
import * as ownIncidents from '../../src/diagnose/incident-engine.js';
import * as ownDecoder from '../../src/receive/otlp-proto.js';

export interface PipelineModules {
  ConfigSchema: typeof ownConfig.ConfigSchema;
  DetectionEngine: typeof ownEngine.DetectionEngine;
  IncidentEngine: typeof ownIncidents.IncidentEngine;
  decodeTraceRequestProto: typeof ownDecoder.decodeTraceRequestProto;
}

async function load<T>(from: string, rel: string, own: T): Promise<T> {
  return from === '' ? own : ((await import(pathToFileURL(join(from, rel)).href)) as T);
}

/** This build's modules when `from` is empty, else those compiled under `from`. */
export async function loadPipelineModules(from: string): Promise<PipelineModules> {
  const { ConfigSchema } = await load(from, 'src/config/schema.js', ownConfig);
  const { DetectionEngine } = await load(from, 'src/detect/engine.js', ownEngine);
  const { IncidentEngine } = await load(from, 'src/diagnose/incident-engine.js', ownIncidents);
  const { decodeTraceRequestProto } = await load(from, 'src/receive/otlp-proto.js', ownDecoder);
  return { ConfigSchema, DetectionEngine, IncidentEngine, decodeTraceRequestProto };
}
