/**
 * Imported first by bench/call.ts: `@livekit/rtc-node` logs at debug level (a JSON line on stdout per
 * room connection) unless NODE_ENV is production; the result table goes to stdout. Leaves NODE_ENV
 * alone when it is set.
 */
process.env.NODE_ENV ??= 'production';
