/** The offline provider: an exported credential report file (`--from-report FILE`). No network. */
import { readFileSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import type { Inventory } from '../../model/identity.js';
import { parseCredentialReport } from '../aws/aws-credential-report.js';
import type { EnrichRequest, ScanProvider } from '../provider.js';

export class FileProvider implements ScanProvider {
  readonly name = 'file';

  constructor(private readonly path: string) {}

  async collect(): Promise<Inventory> {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(
        code === 'ENOENT'
          ? `credential report ${this.path} not found; check the path given to --from-report`
          : `cannot read credential report ${this.path} (${code ?? String(err)})`,
      );
    }
    const parsed = parseCredentialReport(text, this.path);
    return {
      provider: 'aws',
      source: 'file',
      accounts: parsed.accounts,
      dataAsOf: null,
      caller: null,
      identities: parsed.identities,
      warnings: parsed.warnings,
    };
  }

  async enrich(request: EnrichRequest): Promise<string[]> {
    // An exported report carries no tags and no key ids: say so instead of guessing.
    return request.tags.length > 0
      ? [
          'an offline credential report has no tags: tag exemptions were not applied (use exempt.users in the config); keys are named by report slot',
        ]
      : [];
  }
}
