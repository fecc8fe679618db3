// The caller and the root are marked by the provider: findings, never an action.
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../model/identity.js';
import { TEST_ACCOUNT, awsUser } from '../../../test/support/identities.js';
import { markProtected } from './aws-caller.js';

const ACCOUNT = TEST_ACCOUNT;

function user(name: string, path = '/'): Identity {
  return awsUser(name, null, { path });
}

function marked(identity: Identity, callerArn: string | null): Pick<Identity, 'isCaller' | 'protectedReason'> {
  markProtected(identity, callerArn === null ? null : { arn: callerArn, account: ACCOUNT });
  return { isCaller: identity.isCaller, protectedReason: identity.protectedReason };
}

describe('markProtected', () => {
  const CALLER = { isCaller: true, protectedReason: 'the identity dormant runs as' };
  const NOTHING = { isCaller: undefined, protectedReason: undefined };

  it('marks the user dormant runs as, by ARN or by user name', () => {
    expect(marked(user('dormant', '/ops/'), `arn:aws:iam::${ACCOUNT}:user/ops/dormant`)).toEqual(CALLER);
    expect(marked(user('dormant'), `arn:aws:iam::${ACCOUNT}:user/tools/dormant`)).toEqual(CALLER);
    expect(marked(user('alice'), `arn:aws:iam::${ACCOUNT}:user/dormant`)).toEqual(NOTHING);
  });

  it('marks the user an assumed-role session is named after', () => {
    expect(marked(user('alice'), `arn:aws:sts::${ACCOUNT}:assumed-role/Auditor/alice`)).toEqual(CALLER);
    expect(marked(user('Auditor'), `arn:aws:sts::${ACCOUNT}:assumed-role/Auditor/alice`)).toEqual(NOTHING);
  });

  it('marks the root, and nothing without a caller', () => {
    const root = { ...user('<root_account>'), id: `arn:aws:iam::${ACCOUNT}:root` };
    expect(marked(root, null)).toEqual({ isCaller: undefined, protectedReason: 'the root user' });
    expect(marked(user('alice'), null)).toEqual(NOTHING);
    expect(marked(user('alice'), '')).toEqual(NOTHING);
  });
});
