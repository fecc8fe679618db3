/** Exemptions (DESIGN §2): by tag value `true`, or by a config glob on name, path or ARN. */
import type { Config } from '../config/config.js';
import type { Identity } from '../model/identity.js';
import { globToRegExp } from './glob.js';

export class Exemptions {
  private readonly patterns: { source: string; re: RegExp }[];

  constructor(private readonly settings: Config['exempt']) {
    this.patterns = settings.users.map((p) => ({ source: p, re: globToRegExp(p) }));
  }

  /** The reason an identity is exempt by config, or null. */
  byConfig(identity: Identity): string | null {
    for (const p of this.patterns) {
      if (p.re.test(identity.name) || p.re.test(identity.path) || p.re.test(identity.id)) {
        return `config exempt.users matches '${p.source}'`;
      }
    }
    return null;
  }

  /** The reason an identity is exempt by tag, or null. Needs `identity.tags`. */
  byTag(identity: Identity): string | null {
    const value = identity.tags?.[this.settings.tag];
    if (value !== undefined && value.trim().toLowerCase() === 'true') return `tag ${this.settings.tag}=true`;
    return null;
  }
}
