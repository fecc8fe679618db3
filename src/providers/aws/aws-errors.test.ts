// AccessDenied as one line naming the action that was refused and the policy that grants it.
import { describe, expect, it } from 'vitest';
import { CloudError, EXIT } from '../../errors.js';
import { deniedAction, toCloudError } from './aws-errors.js';

function sdkError(name: string, message: string, status = 403): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status, attempts: 1 } });
}

const refused = (action: string) =>
  sdkError('AccessDenied', `User: arn:aws:iam::123456789012:user/dormant is not authorized to perform: ${action}`);

describe('AccessDenied', () => {
  it('names the action and what it was for, and the mode whose policy grants it', () => {
    const scan = toCloudError(refused('iam:ListAccessKeys'), 'iam:ListAccessKeys for alice');
    expect(scan).toBeInstanceOf(CloudError);
    expect(scan.exitCode).toBe(EXIT.cloud);
    expect(scan.code).toBe('AccessDenied');
    expect(scan.message).toBe(
      "AWS denied iam:ListAccessKeys for alice (AccessDenied); grant it to the identity dormant runs as ('dormant permissions' prints the policy)",
    );
    expect(toCloudError(refused('iam:DeleteUser'), 'iam:DeleteUser alice').message).toBe(
      "AWS denied iam:DeleteUser alice (AccessDenied); grant it to the identity dormant runs as ('dormant permissions --mode remediate' prints the policy)",
    );
    const hub = sdkError('AccessDeniedException', 'not authorized to perform: securityhub:BatchImportFindings');
    expect(toCloudError(hub, 'securityhub:BatchImportFindings').message).toMatch(
      /^AWS denied securityhub:BatchImportFindings \(AccessDeniedException\); .*'dormant permissions --mode export'/,
    );
  });

  it("takes the action from AWS's message when the operation does not name one", () => {
    const err = toCloudError(refused('iam:GetUser'), 'the re-check of alice');
    expect(err.message).toMatch(/^AWS denied iam:GetUser \(the re-check of alice\) \(AccessDenied\); grant it/);
    expect(err.message).toContain("'dormant permissions --mode remediate'");
    expect(deniedAction('the re-check', 'no action named here')).toBeNull();
    expect(toCloudError(sdkError('AccessDenied', 'Access denied'), 'something').message).toBe(
      "AWS denied something (AccessDenied); grant it to the identity dormant runs as ('dormant permissions' prints the policy)",
    );
  });

  it('is one line, whatever AWS said', () => {
    const err = toCloudError(sdkError('AccessDenied', 'line one\nline two'), 'iam:GetUser for bob');
    expect(err.message).not.toContain('\n');
  });
});
