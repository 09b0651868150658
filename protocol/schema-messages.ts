/**
 * zod's English messages for the protocol's schemas ("Invalid input: expected string, received
 * number"), loaded by the sides whose refusals and logs people read: the server (an API client's
 * 400) and the agent. The element leaves them out (see `schema.ts`). Importing this module sets them.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

z.config(en());
