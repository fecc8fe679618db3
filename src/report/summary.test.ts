import { describe, expect, it } from 'vitest';
import type { ScanResult } from '../model/finding.js';
import { sourceLine } from './summary.js';

const base = (accounts: string[], extra: Partial<ScanResult> = {}): ScanResult => ({
  schemaVersion: 1,
  generatedAt: '2026-12-02T10:00:00Z',
  source: 'credential-report',
  providers: [{ provider: 'aws', source: 'credential-report', accounts, dataAsOf: null }],
  dataAsOf: null,
  accounts,
  settings: { inactiveDays: 90 },
  identities: [],
  findings: [],
  warnings: [],
  summary: { identities: 0, inactive: 0, exempt: 0, findings: 0 },
  ...extra,
});

describe('sourceLine', () => {
  it('names a few accounts, counts many, and says plainly when the result is partial or accounts were skipped', () => {
    expect(sourceLine(base(['111111111111', '222222222222']))).toBe(
      'source: credential-report · window 90 days · accounts 111111111111, 222222222222',
    );
    const many = Array.from({ length: 12 }, (_, i) => String(100000000000 + i));
    expect(
      sourceLine(
        base(many, {
          failures: [{ provider: 'aws', account: '999999999999', reason: 'AWS denied sts:AssumeRole' }],
          skipped: [{ provider: 'aws', account: '888888888888', reason: 'account x is suspended' }],
        }),
      ),
    ).toBe(
      'source: credential-report · window 90 days · 12 accounts · PARTIAL: 1 account(s) could not be read (999999999999) · 1 account(s) skipped (not active)',
    );
  });
});
