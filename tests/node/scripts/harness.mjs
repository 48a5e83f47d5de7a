// What every script of the harness shares: its inputs come from MANIFOLD_* environment
// variables set by the pytest test that runs it, and it reports one JSON object on stdout
// (the test asserts on it) and exits non-zero when a check failed. A new client (graphql-ws for
// subscriptions, say) is one more script written the same way and one more test running it.

/** A required input, failing with a clear message when the test did not set it. */
export function input(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run this script from its pytest test`);
  }
  return value;
}

/** Runs `main`, prints its report as one JSON line, exits 1 if `report.ok` is false. */
export async function run(main) {
  try {
    const report = await main();
    process.stdout.write(JSON.stringify(report) + "\n");
    process.exitCode = report.ok ? 0 : 1;
  } catch (error) {
    process.stdout.write(JSON.stringify({ ok: false, error: String(error?.stack ?? error) }) + "\n");
    process.exitCode = 1;
  }
}

/** Records named checks and whether each held, with what was seen when it did not. */
export class Checks {
  constructor() {
    this.results = [];
  }

  check(name, passed, seen) {
    this.results.push(passed ? { name, ok: true } : { name, ok: false, seen });
    return passed;
  }

  report(extra = {}) {
    return { ok: this.results.every((result) => result.ok), checks: this.results, ...extra };
  }
}
