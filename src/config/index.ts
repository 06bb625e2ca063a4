export * from './schema.js';
export * from './load.js';
export type { ReceiveConfig } from './sections/receive.js';
export type { AdminConfig } from './sections/admin.js';
export type { ForwardConfig } from './sections/forward.js';
export type { EmitConfig } from './sections/emit.js';
export type { StoreConfig } from './sections/store.js';
export type { DetectConfig } from './sections/detect.js';
export type { HealConfig } from './sections/heal.js';
