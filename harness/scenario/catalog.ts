/** The built-in scenarios: the YAML files in fixtures/scenarios/, validated like any other. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../core/paths.ts';
import { loadScenarioFile } from './scenario-file.ts';
import type { Scenario } from './scenario.ts';

export const SCENARIO_DIR = join(REPO_ROOT, 'fixtures/scenarios');

/** Loads every built-in scenario, by name. A file whose name differs from its `name` is an error. */
export function builtinScenarios(): Record<string, Scenario> {
  const out: Record<string, Scenario> = {};
  for (const file of readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.yaml')).sort()) {
    const scenario = loadScenarioFile(join(SCENARIO_DIR, file));
    if (`${scenario.name}.yaml` !== file) throw new Error(`${join(SCENARIO_DIR, file)}: name "${scenario.name}" does not match the file name`);
    out[scenario.name] = scenario;
  }
  return out;
}

export const SCENARIOS: Record<string, Scenario> = builtinScenarios();
