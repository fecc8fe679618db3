// The JSON renderer's pieces join to exactly JSON.stringify(result, null, 2).
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { scan } from '../engine/scan.js';
import { FileProvider } from '../providers/file/file-provider.js';
import { renderJson, renderJsonChunks } from './json.js';

describe('renderJson', () => {
  it('equals JSON.stringify with two-space indentation, in many pieces', async () => {
    const result = await scan(new FileProvider('examples/credential-report.csv'), {
      config: parseConfig({ exempt: { users: ['breakglass-*'] } }),
      now: new Date('2026-11-22T12:00:00Z'),
    });
    expect(result.findings.length).toBeGreaterThan(10);
    const chunks = [...renderJsonChunks(result)];
    expect(chunks.length).toBeGreaterThan(result.identities.length);
    expect(renderJson(result)).toBe(`${JSON.stringify(result, null, 2)}\n`);
  });

  it('renders empty lists the way JSON.stringify does', async () => {
    const result = await scan(new FileProvider('examples/credential-report.csv'), {
      config: parseConfig({ exempt: { users: ['*'] } }),
      now: new Date('2026-11-22T12:00:00Z'),
    });
    expect(result.findings).toEqual([]);
    expect(renderJson(result)).toBe(`${JSON.stringify(result, null, 2)}\n`);
  });
});
