/** Who is at the keyboard, for approvals and the audit trail. */
import { userInfo } from 'node:os';

export function operatorName(explicit?: string): string {
  if (explicit && explicit.trim()) return explicit.trim();
  if (process.env.DORMANT_OPERATOR) return process.env.DORMANT_OPERATOR;
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
