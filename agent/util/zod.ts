/**
 * The one zod import of the agent: `zod/mini` (functional API: `z.optional(x)`,
 * `x.check(z.minLength(1))` …) instead of classic `zod`, whose schemas carry a method object
 * each: less memory in the idle daemon (issue 14). `zod/mini` loads no locale; English is
 * installed here once, so the users see the same messages as with classic zod
 * ("Too small: expected number to be >=1"), not a bare "Invalid input".
 * Every schema file does `import * as z from '…/util/zod.ts'`, never imports 'zod' itself.
 * Re-exported with `export *` (not as one namespace object) so the bundler keeps only what is
 * used: the other 60 locales of `z.locales` stay out of the bundle.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
