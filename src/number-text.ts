/**
 * Numbers as people and programs write them, read as 64-bit floats. Shared by the gateway and
 * the UI's form (browser-safe: no Node imports).
 */

/**
 * Whether a number as written (JSON's syntax, which GraphQL's Float literals share; the form's
 * `+` and `.5` too) has a digit other than 0 before its exponent and yet reads as 0: its
 * magnitude is below half the smallest double (5e-324), as 1e-400 is. Reading it as 0 would
 * score a customer nobody sent: a tenure or charge of 0 is a valid one (a new customer).
 */
export function underflows(literal: string): boolean {
  return Number(literal) === 0 && /[1-9]/.test(literal.split(/[eE]/)[0] as string);
}
