/** Picks a renderer by format name. */
import type { ScanResult } from '../model/finding.js';
import { renderCsv } from './csv.js';
import { renderJson, renderJsonChunks } from './json.js';
import { renderMarkdown } from './markdown.js';
import { renderTable } from './table.js';

export const FORMATS = ['table', 'json', 'csv', 'markdown'] as const;
export type Format = (typeof FORMATS)[number];

export function render(result: ScanResult, format: Format, options: { color: boolean }): string {
  switch (format) {
    case 'json':
      return renderJson(result);
    case 'csv':
      return renderCsv(result);
    case 'markdown':
      return renderMarkdown(result);
    case 'table':
      return renderTable(result, options);
  }
}

/** The same output in pieces (JSON is streamed one identity or finding at a time). */
export function renderChunks(result: ScanResult, format: Format, options: { color: boolean }): Iterable<string> {
  return format === 'json' ? renderJsonChunks(result) : [render(result, format, options)];
}
