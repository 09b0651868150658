export * from './errors.ts';
export * from './call-id.ts';
export * from './call-key.ts';
export * from './call-status.ts';
export * from './call-event.ts';
export * from './call-state.ts';
export * from './ecies.ts';
export * from './retry.ts';
