/**
 * The JSON document of DESIGN §3. Other tools parse it: add fields, never rename or remove.
 * It is produced in pieces (one identity or finding at a time) so a 5,000-user account never
 * needs the whole document as one string; joined, the pieces equal JSON.stringify(result, null, 2).
 */
import type { ScanResult } from '../model/finding.js';

function indent(json: string, spaces: number): string {
  return json.replace(/\n/g, `\n${' '.repeat(spaces)}`);
}

export function* renderJsonChunks(result: ScanResult): Generator<string> {
  const entries = Object.entries(result).filter(([, v]) => v !== undefined);
  yield '{\n';
  for (let e = 0; e < entries.length; e++) {
    const [key, value] = entries[e]!;
    const tail = e < entries.length - 1 ? ',\n' : '\n';
    if (Array.isArray(value) && value.length > 0 && (key === 'identities' || key === 'findings')) {
      yield `  ${JSON.stringify(key)}: [\n`;
      for (let i = 0; i < value.length; i++) {
        yield `    ${indent(JSON.stringify(value[i], null, 2), 4)}${i < value.length - 1 ? ',\n' : '\n'}`;
      }
      yield `  ]${tail}`;
    } else {
      yield `  ${JSON.stringify(key)}: ${indent(JSON.stringify(value, null, 2), 2)}${tail}`;
    }
  }
  yield '}\n';
}

export function renderJson(result: ScanResult): string {
  return [...renderJsonChunks(result)].join('');
}
