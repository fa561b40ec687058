/**
 * The harness's layering, kept by lint (`npm run lint:layers`, part of `npm run lint`). A folder
 * under harness/ may import its own files and the folders of lower layers, never a sibling of its
 * own layer or anything above it; no file takes part in an import cycle. README "Layout" draws
 * the same layers.
 */
const LAYERS = [
  ['core'], // processes, files, logs, schemas, waits: nothing about clusters
  ['cluster', 'scenario', 'history'], // what any two-node cluster is (plan, status, node shell); the scenario file; the history of operations
  ['bmc', 'workload'], // the virtual BMC (ipmi_sim); the mail clients
  ['storage', 'power', 'mail'], // the seams: each owns its variants
  ['check'], // the verdicts, pure functions of observations
  ['calibrate', 'report'], // SLO baselines; run directories, timelines, JUnit
  ['session'], // the Target contract and the session every platform shares
  ['observe'], // what a run watches while it runs
  ['faults'], // the fault catalogue
  ['provision'], // what the lab and the lane share: rendered files, secrets, the recipe, provisioning
  ['lab', 'lane', 'existing'], // the platforms that start a cluster: VMs, containers, SSH to machines
  ['run'], // one certification run
  ['cli'], // commands
];
const layerOf = new Map(LAYERS.flatMap((folders, i) => folders.map((f) => [f, i])));
const above = (i) => LAYERS.slice(i).flat();

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle: the files of a cycle cannot be understood, tested or replaced one at a time.',
      severity: 'error',
      from: { path: '^harness/' },
      to: { circular: true },
    },
    ...[...layerOf].map(([folder, i]) => ({
      name: `layer-${folder}`,
      comment: `harness/${folder}/ (layer ${i}) imports only lower layers: ${LAYERS.slice(0, i).flat().join(', ') || 'none'}`,
      severity: 'error',
      from: { path: `^harness/${folder}/` },
      to: { path: `^harness/(${above(i).filter((f) => f !== folder).join('|')})/` },
    })),
    {
      name: 'known-folders',
      comment: 'Every folder under harness/ has a place in LAYERS (.dependency-cruiser.cjs): one that imports or is imported.',
      severity: 'error',
      from: { path: '^harness/' },
      to: { path: `^harness/(?!(${[...layerOf.keys()].join('|')})/)` },
    },
    {
      name: 'known-folders-from',
      comment: 'Every folder under harness/ has a place in LAYERS (.dependency-cruiser.cjs).',
      severity: 'error',
      from: { path: `^harness/(?!(${[...layerOf.keys()].join('|')})/)` },
      to: {},
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
  },
};
