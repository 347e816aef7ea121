/**
 * A count of something held at once across requests (request-body bytes: http.ts BodyBudget; risk
 * drivers being explained: schema/explanation.ts DriverBudget), taken before the work that holds
 * it and given back once that work's answer is done. A take that does not fit takes nothing, so
 * the caller refuses the request (503 with Retry-After); `evenPastMax` takes it anyway, for what
 * each budget counts but never refuses (a body's first bytes, a small explanation).
 */
export class InFlightBudget {
  private held = 0;
  private refused = 0;

  /** Takes `amount` if the total stays within `max`, or `evenPastMax`; false (nothing taken) if not. */
  take(amount: number, max: number, evenPastMax: boolean): boolean {
    if (!evenPastMax && this.held + amount > max) {
      this.refused += 1;
      return false;
    }
    this.held += amount;
    return true;
  }

  give(amount: number): void {
    this.held -= amount;
  }

  get inUse(): number {
    return this.held;
  }

  /** Takes that did not fit since start-up: each refused a request (/metrics gateway_budget_refusals_total). */
  get refusals(): number {
    return this.refused;
  }
}
