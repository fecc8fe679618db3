/**
 * One mutating IAM call as a journaled step: the errors that mean "already done"
 * (NoSuchEntity on a delete, EntityAlreadyExists on a create) end the step as done;
 * anything else becomes a one-line CloudError.
 */
import type { StepRunner } from '../provider.js';
import { isNoSuchEntity, toCloudError } from './aws-errors.js';
import type { IamAccess } from './aws-lists.js';

export function iamStep(
  aws: IamAccess,
  steps: StepRunner,
  name: string,
  operation: string,
  call: () => Promise<unknown>,
  done: (err: unknown) => boolean = isNoSuchEntity,
): Promise<void> {
  return steps.step(name, async () => {
    try {
      await call();
    } catch (err) {
      if (done(err)) return;
      throw toCloudError(err, operation, aws.settings);
    }
  });
}
