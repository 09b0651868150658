/**
 * Imported first by bench/agent.ts: `@livekit/rtc-node` logs at debug level (a JSON line on stdout per
 * room connection) unless NODE_ENV is production, and its level cannot be set otherwise. The result
 * table goes to stdout, so it is kept clean. Leaves NODE_ENV alone when it is set.
 */
process.env.NODE_ENV ??= 'production';
