/** A secret in dormant.yml: the name of an environment variable or a file holding it, never the value itself. */
import { z } from 'zod';

export const secretSource = z.union([
  z.strictObject({ env: z.string().min(1) }),
  z.strictObject({ file: z.string().min(1) }),
]);
