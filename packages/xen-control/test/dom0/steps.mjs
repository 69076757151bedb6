// The dom0 check as named steps (the XTF way: each test reports its own verdict). Each step
// reports one line on stdout, `xen-check-step {"step": NAME, "ok": true, "value": ...}` or
// `{"step": NAME, "ok": false, "error": ...}`, so a step that throws fails alone; a step
// that needs another's value is reported as not run (`skipped`) when that one failed.
// Used by xen-check.mjs in dom0; test/steps.test.ts checks it on the host.

export const STEP_PREFIX = 'xen-check-step ';

/**
 * Runs steps in order: `{ name, needs?: [names], run(values) }`, where `values` holds what
 * earlier steps returned, by name. `afterFailure(name)` runs after a step that threw (to
 * clean up what it left). `write` takes each report line (default: stdout).
 * Resolves with the number of steps that failed or were skipped.
 */
export async function runSteps(steps, { afterFailure = async () => undefined, write = (line) => process.stdout.write(line) } = {}) {
  const values = {};
  const failed = new Set();
  let bad = 0;
  const report = (record) => write(`${STEP_PREFIX}${JSON.stringify(record)}\n`);
  for (const step of steps) {
    const missing = (step.needs ?? []).filter((n) => failed.has(n) || !(n in values));
    if (missing.length > 0) {
      failed.add(step.name);
      bad++;
      report({ step: step.name, ok: false, skipped: `not run: it needs ${missing.join(', ')}, which did not succeed` });
      continue;
    }
    try {
      const value = await step.run(values);
      values[step.name] = value ?? null;
      report({ step: step.name, ok: true, value: value ?? null });
    } catch (e) {
      failed.add(step.name);
      bad++;
      report({ step: step.name, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e) });
      try {
        await afterFailure(step.name);
      } catch {
        /* the next steps report what is still wrong */
      }
    }
  }
  return bad;
}
