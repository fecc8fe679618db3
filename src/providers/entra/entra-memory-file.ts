/**
 * The file format of an in-memory Entra tenant (examples/entra/tenant.json): users in Graph's
 * shapes, groups, directory roles, app role assignments and sign-ins, validated on load.
 */
import { z } from 'zod';

const date = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO 8601 date');

export const memoryUserSchema = z.strictObject({
  id: z.string().min(1),
  userPrincipalName: z.string().min(1),
  displayName: z.string().nullable().default(null),
  mail: z.string().nullable().default(null),
  userType: z.enum(['Member', 'Guest']).default('Member'),
  accountEnabled: z.boolean().default(true),
  createdDateTime: date.nullable(),
  signInActivity: z
    .strictObject({
      lastSignInDateTime: date.nullable().default(null),
      lastNonInteractiveSignInDateTime: date.nullable().default(null),
      lastSuccessfulSignInDateTime: date.nullable().default(null),
    })
    .nullable()
    .default(null),
  externalUserState: z.enum(['PendingAcceptance', 'Accepted']).nullable().default(null),
  externalUserStateChangeDateTime: date.nullable().default(null),
  onPremisesSyncEnabled: z.boolean().nullable().default(null),
  usageLocation: z.string().nullable().default(null),
  jobTitle: z.string().nullable().default(null),
  department: z.string().nullable().default(null),
  assignedLicenses: z
    .array(z.strictObject({ skuId: z.string(), disabledPlans: z.array(z.string()).default([]) }))
    .default([]),
  /** The manager's object id. */
  manager: z.string().nullable().default(null),
});

export const memoryTenantSchema = z.strictObject({
  /** What the file is, for people reading it. */
  description: z.string().optional(),
  tenantId: z.string().min(1),
  /** The instant the demo is evaluated at, so its verdicts never drift with the calendar. */
  asOf: date,
  /** False: the tenant has no Entra ID P1/P2, and Graph refuses signInActivity. */
  premium: z.boolean().default(true),
  /** Config the demo runs with (merged into `entra`). */
  entra: z
    .strictObject({
      exemptUsers: z.array(z.string()).default([]),
      exemptGroups: z.array(z.string()).default([]),
    })
    .default({ exemptUsers: [], exemptGroups: [] }),
  users: z.array(memoryUserSchema),
  groups: z
    .array(z.strictObject({ id: z.string(), displayName: z.string(), members: z.array(z.string()).default([]) }))
    .default([]),
  directoryRoles: z
    .array(
      z.strictObject({
        id: z.string(),
        displayName: z.string(),
        roleTemplateId: z.string(),
        members: z.array(z.string()).default([]),
      }),
    )
    .default([]),
  /** PIM eligibilities for directory roles (principalId: a user or group id; roleDefinitionId: the template id). */
  roleEligibilities: z.array(z.strictObject({ principalId: z.string(), roleDefinitionId: z.string() })).default([]),
  appRoleAssignments: z
    .array(
      z.strictObject({
        id: z.string(),
        principalId: z.string(),
        resourceId: z.string(),
        appRoleId: z.string(),
        resourceDisplayName: z.string().nullable().default(null),
      }),
    )
    .default([]),
  signIns: z
    .array(
      z.strictObject({
        userId: z.string(),
        createdDateTime: date,
        appDisplayName: z.string(),
        ipAddress: z.string(),
        city: z.string().nullable().default(null),
        countryOrRegion: z.string().nullable().default(null),
        isInteractive: z.boolean().default(true),
        errorCode: z.number().default(0),
      }),
    )
    .default([]),
});

export type MemoryTenantFile = z.infer<typeof memoryTenantSchema>;
