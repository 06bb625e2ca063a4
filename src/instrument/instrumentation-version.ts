/** The instrumentation scope of every span this package's musical-conductor instrumentation makes. */
export const INSTRUMENTATION_NAME = 'self-healing-sidecar/musical-conductor';
/** Kept equal to package.json's version (a test checks). */
export const INSTRUMENTATION_VERSION = '0.1.0';
