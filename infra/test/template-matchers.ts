/**
 * The CDK template assertions as vitest matchers, so that they count as assertions:
 * `Template.hasResourceProperties` and its kin throw on a mismatch but are invisible to
 * `expect.requireAssertions`, which fails any test that asserts nothing (vitest.config.ts).
 * Loaded as a setup file; the messages are CDK's own.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { expect } from 'vitest';

interface TemplateMatchers<R = unknown> {
  /** Template.hasResourceProperties: some resource of `type` has these properties. */
  toHaveResourceProperties(type: string, props: unknown): R;
  /** Template.resourceCountIs: exactly `count` resources of `type`. */
  toHaveResourceCount(type: string, count: number): R;
  /** Template.hasOutput: an output with this logical id (or '*') matching `props`. */
  toHaveOutput(logicalId: string, props: unknown): R;
}

declare module 'vitest' {
  // vitest's documented way to type custom matchers; the merged declaration must repeat its `T = any`.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-explicit-any
  interface Matchers<T = any> extends TemplateMatchers<T> {}
}

function check(isNot: boolean, name: string, run: () => void): { pass: boolean; message: () => string } {
  try {
    run();
  } catch (error) {
    return { pass: false, message: () => (error instanceof Error ? error.message : String(error)) };
  }
  return { pass: true, message: () => (isNot ? `expected the template not to satisfy ${name}, but it does` : '') };
}

expect.extend({
  toHaveResourceProperties(template: Template, type: string, props: unknown) {
    return check(this.isNot, `hasResourceProperties(${type})`, () => template.hasResourceProperties(type, props));
  },
  toHaveResourceCount(template: Template, type: string, count: number) {
    return check(this.isNot, `resourceCountIs(${type}, ${count})`, () => template.resourceCountIs(type, count));
  },
  toHaveOutput(template: Template, logicalId: string, props: unknown) {
    return check(this.isNot, `hasOutput(${logicalId})`, () => template.hasOutput(logicalId, props));
  },
});
