/**
 * One in-memory Google tenant: a Workspace directory and a Cloud organization behind one
 * GoogleMemory front door (token endpoint, bearer, scopes, admin rights). The demo, the tests
 * and the benchmark build their tenants here.
 */
import { CloudState, cloudRoutes } from './cloud.js';
import { directoryRoutes, WorkspaceState } from './directory.js';
import { GoogleMemory } from './google-memory.js';

export interface GoogleTenantOptions {
  clock?: () => Date;
  customerId?: string;
  domain?: string;
}

export class GoogleTenant {
  readonly workspace: WorkspaceState;
  readonly cloud: CloudState;
  readonly memory: GoogleMemory;

  constructor(options: GoogleTenantOptions = {}) {
    const clock = options.clock ?? (() => new Date());
    this.workspace = new WorkspaceState({
      clock,
      ...(options.customerId ? { customerId: options.customerId } : {}),
      ...(options.domain ? { domain: options.domain } : {}),
    });
    this.cloud = new CloudState(clock);
    this.memory = new GoogleMemory({
      clock,
      routes: [...directoryRoutes(this.workspace), ...cloudRoutes(this.cloud)],
      isAdmin: (email) => this.workspace.isAdmin(email),
      userExists: (email) => this.workspace.userExists(email),
    });
  }
}
