/**
 * A full snapshot of an IAM user taken before the first change (DESIGN §4.3), enough to
 * rebuild it. Secrets are never in it: AWS does not return them, and restore says so.
 */
export interface UserBackup {
  version: 1;
  takenAt: string;
  account: string;
  user: {
    name: string;
    arn: string;
    path: string;
    createdAt: string | null;
    permissionsBoundary: string | null;
    tags: { key: string; value: string }[];
  };
  groups: string[];
  attachedPolicies: { arn: string; name: string }[];
  /** Inline policies with their documents, decoded JSON text. */
  inlinePolicies: { name: string; document: string }[];
  loginProfile: { exists: boolean; createdAt: string | null; passwordResetRequired: boolean };
  accessKeys: { id: string; status: 'Active' | 'Inactive'; createdAt: string | null }[];
  mfaDevices: { serialNumber: string; enabledAt: string | null; virtual: boolean }[];
  /** Public keys: their bodies are public and can be uploaded again. */
  sshPublicKeys: { id: string; status: string; body: string | null }[];
  signingCertificates: { id: string; status: string; body: string | null }[];
  serviceSpecificCredentials: { id: string; serviceName: string; status: string }[];
  /** Lists that could not be read where this ran (e.g. an emulator without the API). */
  warnings: string[];
}

export interface RestoreReport {
  /** What was brought back, as sentences. */
  restored: string[];
  /** What cannot come back, said plainly (deleted key secrets, MFA seeds, ...). */
  cannotRestore: string[];
  warnings: string[];
}
