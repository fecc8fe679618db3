/** The JSON document of DESIGN §3. Other tools parse it: add fields, never rename or remove. */
import type { ScanResult } from '../model/finding.js';

export function renderJson(result: ScanResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}
