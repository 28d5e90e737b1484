/**
 * The one way components report bad arguments: a `Problems` list per component, filled by a pure
 * `<component>Problems(args)` function and thrown once by `check()` before any resource exists. Components check
 * only what a caller can get wrong in code (names, subnets, ports, secrets without ARNs, a policy list...);
 * operator-facing sizing rules live in `infra/config/sizing-rules.ts` and AWS limits in `./aws-limits.ts`.
 */

/** One bad argument: the field, the value given, and what is allowed or how to fix it. */
export interface ArgProblem {
  field: string;
  value: unknown;
  fix: string;
}

/** Collects problems; `check()` throws one error listing them all, `<Component>: invalid arguments: ...`. */
export class Problems {
  readonly list: ArgProblem[] = [];

  constructor(private readonly component: string) {}

  add(field: string, value: unknown, fix: string): void {
    this.list.push({ field, value, fix });
  }

  /** Each problem as `<field> <value as JSON>: <fix>`. */
  lines(): string[] {
    return this.list.map((p) => `${p.field} ${JSON.stringify(p.value)}: ${p.fix}`);
  }

  check(): void {
    if (this.list.length === 0) return;
    throw new Error(`${this.component}: invalid arguments:\n  - ${this.lines().join("\n  - ")}`);
  }
}
