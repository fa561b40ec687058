/**
 * Scenario files (YAML, under fixtures/scenarios/ or anywhere), validated against
 * schemas/scenario.schema.json; see core/yaml-input.ts for what every error says.
 */
import { INPUT_LIMITS, readInputFile } from '../core/input-file.ts';
import { parseYamlInput } from '../core/yaml-input.ts';
import type { Scenario } from './scenario.ts';

export { MAX_YAML_ALIASES, MAX_YAML_FLOW_DEPTH } from '../core/yaml-input.ts';

/** Parses and validates scenario text. `source` names it in errors. */
export function parseScenario(text: string, source: string): Scenario {
  return parseYamlInput<Scenario>(text, source, 'scenario').value;
}

/** Reads and validates a scenario file (a regular file of at most 256 KiB). */
export function loadScenarioFile(file: string): Scenario {
  return parseScenario(readInputFile(file, { maxBytes: INPUT_LIMITS.scenario, what: 'scenario file' }), file);
}
