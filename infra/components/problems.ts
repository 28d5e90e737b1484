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

  check(): void {
    if (this.list.length === 0) return;
    const lines = this.list.map((p) => `${p.field} ${JSON.stringify(p.value)}: ${p.fix}`);
    throw new Error(`${this.component}: invalid arguments:\n  - ${lines.join("\n  - ")}`);
  }
}
