/** Picks a renderer by format name. */
import type { Config } from '../config/config.js';
import type { ScanResult } from '../model/finding.js';
import { renderAsff } from './asff.js';
import { renderCsv } from './csv.js';
import { renderJson, renderJsonChunks } from './json.js';
import { renderMarkdown } from './markdown.js';
import { renderOcsfChunks, renderOcsfJsonlChunks } from './ocsf.js';
import { renderTable } from './table.js';

export const FORMATS = ['table', 'json', 'csv', 'markdown', 'ocsf', 'ocsf-jsonl', 'asff'] as const;
export type Format = (typeof FORMATS)[number];

export interface RenderOptions {
  color: boolean;
  /** OCSF and ASFF word the recommended action as the plan would (default: the default config). */
  config?: Config;
  /** ASFF: the Security Hub region in ProductArn and resources (default us-east-1). */
  region?: string;
}

export function render(result: ScanResult, format: Format, options: RenderOptions): string {
  switch (format) {
    case 'json':
      return renderJson(result);
    case 'csv':
      return renderCsv(result);
    case 'markdown':
      return renderMarkdown(result);
    case 'table':
      return renderTable(result, options);
    case 'ocsf':
      return [...renderOcsfChunks(result, options)].join('');
    case 'ocsf-jsonl':
      return [...renderOcsfJsonlChunks(result, options)].join('');
    case 'asff':
      return renderAsff(result, options);
  }
}

/**
 * The same output in pieces: JSON and OCSF are streamed one identity or finding at a time. ASFF
 * is built whole first, so an error (no AWS account for a finding) comes before any output.
 */
export function renderChunks(result: ScanResult, format: Format, options: RenderOptions): Iterable<string> {
  switch (format) {
    case 'json':
      return renderJsonChunks(result);
    case 'ocsf':
      return renderOcsfChunks(result, options);
    case 'ocsf-jsonl':
      return renderOcsfJsonlChunks(result, options);
    default:
      return [render(result, format, options)];
  }
}
