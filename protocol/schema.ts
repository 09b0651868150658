/**
 * zod for the protocol's schemas: its `mini` build, whose functions (not methods) let a bundler keep
 * only what the schemas use (about 7 KB gzipped in the element instead of 27 KB for classic zod).
 * Classic zod (the server's and the agent's own settings) reads these schemas as they are.
 *
 * No messages are loaded here: a refusal reads "Invalid input" with the field's path until a side
 * loads zod's English messages (`schema-messages.ts`; the server and the agent do). The element does
 * not: it shows its own copy, names the field in a developer's detail, and is 1.1 KB gzipped smaller.
 */
export * from 'zod/mini';
