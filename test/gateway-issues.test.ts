/**
 * Where the form puts the gateway's refusals (ui/src/app/gateway-issues.ts): each issue by
 * itself, next to the control its path names or in the result area. The browser tests
 * (ui.test.ts) show it on real answers; these pin the mixes a real answer rarely carries.
 */
import { describe, expect, it } from 'vitest';
import { placeErrors } from '../ui/src/app/gateway-issues.js';

const TENURE = 'tenure must be an integer number of months from 0 to 1200; got -1';
const TOP = 'must be from 1 to 20 (the number of risk drivers); got 0';

const badUserInput = (message: string, issues: { path: (string | number)[]; message: string }[]) => ({ message, extensions: { code: 'BAD_USER_INPUT', issues, issueCount: issues.length } });

describe('placeErrors', () => {
  it('places an issue naming a field and shows one naming none, from the same error', () => {
    const error = badUserInput(`Invalid input (2 problems): top: ${TOP}; customer.tenure: ${TENURE}`, [
      { path: ['top'], message: TOP },
      { path: ['customer', 'tenure'], message: TENURE },
    ]);
    expect(placeErrors([error])).toEqual({
      issues: { tenure: 'Tenure must be an integer number of months from 0 to 1200; got -1' },
      wording: { tenure: TENURE },
      general: [`Invalid input: top: ${TOP}`],
    });
  });

  it('places an issue about the customer id next to its control', () => {
    const error = badUserInput('Invalid input: customer.customerId: must be at most 256 characters', [{ path: ['customer', 'customerId'], message: 'must be at most 256 characters' }]);
    expect(placeErrors([error])).toEqual({ issues: { customerId: 'must be at most 256 characters' }, wording: { customerId: 'must be at most 256 characters' }, general: [] });
  });

  it('shows an error by its own message when none of its issues names a field, or it lists none', () => {
    const aboutTop = badUserInput(`Invalid input: top: ${TOP}`, [{ path: ['top'], message: TOP }]);
    const unlisted = { message: 'Too many errors processing variables, error limit reached. Execution aborted.', extensions: { code: 'BAD_USER_INPUT', issues: [] } };
    const failed = { message: 'inference failed on model 3: session run failed', extensions: { code: 'INFERENCE_FAILED' } };
    expect(placeErrors([aboutTop, unlisted, failed])).toEqual({ issues: {}, wording: {}, general: [aboutTop.message, unlisted.message, failed.message] });
  });

  it('keeps every issue a field has, and every one that names none, in order', () => {
    const error = badUserInput('Invalid input (4 problems): …', [
      { path: ['customers', 0, 'tenure'], message: TENURE },
      { path: ['top'], message: TOP },
      { path: ['customers', 0, 'tenure'], message: 'tenure is also wrong' },
      { path: ['customers', 0, 'unknownField'], message: 'is not a field' },
    ]);
    const placed = placeErrors([error]);
    expect(placed.issues.tenure).toBe('Tenure must be an integer number of months from 0 to 1200; got -1 Tenure is also wrong');
    expect(placed.general).toEqual([`Invalid input: top: ${TOP}; customers[0].unknownField: is not a field`]);
  });
});
