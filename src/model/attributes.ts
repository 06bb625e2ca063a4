/**
 * Span attribute conventions for beats (the `beat.*` namespace) and the standard OpenTelemetry
 * attributes used as fallbacks. docs/beat-conventions.md explains each one.
 */
export const BEAT_ATTR = {
  sequence: 'beat.sequence',
  sequenceId: 'beat.sequence.id',
  movement: 'beat.movement',
  number: 'beat.number',
  event: 'beat.event',
  handler: 'beat.handler',
  plugin: 'beat.plugin',
  kind: 'beat.kind',
  correlationId: 'beat.correlation_id',
} as const;

export const OTEL_ATTR = {
  serviceName: 'service.name',
  serviceVersion: 'service.version',
  deploymentEnvironment: 'deployment.environment',
  codeFunction: 'code.function',
  codeFunctionName: 'code.function.name',
  codeNamespace: 'code.namespace',
  exceptionType: 'exception.type',
  exceptionMessage: 'exception.message',
  exceptionStacktrace: 'exception.stacktrace',
  requestId: 'request.id',
} as const;
