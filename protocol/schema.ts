/**
 * zod for the protocol's schemas: its `mini` build, whose functions (not methods) let a bundler keep
 * only what the schemas use (about 8 KB gzipped in the element instead of 27 KB for classic zod), with
 * the English messages that classic zod loads by itself, so a refusal reads the same on every side.
 * Classic zod (the server's and the agent's own settings) reads these schemas as they are.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

z.config(en());

export * from 'zod/mini';
