// The import rules of ../shared/docs/DESIGN.md §2 (and docs/ARCHITECTURE.md "The shape") as a dependency-cruiser rule set, run by test/unit/architecture in `npm test`.
// Type-only imports count (tsPreCompilationDeps): a type-only cycle or a contract typed on a service couples as much.

/** Folders of src/ that are layers, not features: everything else directly under src/ is a feature (`config/`, the
 *  areas of src/config.ts, is read by every layer). */
const LAYERS = ['domain', 'contracts', 'errors', 'adapters', 'cli', 'migrations', 'config'];
const FEATURE = `^src/(?!(?:${LAYERS.join('|')})/)([^/]+)/`;
/** A project file (not an npm package nor a Node built-in): the rules below only restrict these. */
const PROJECT = '^(src|actors|supervisors|http|bench|test|ops)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle, type-only ones included: modules in a cycle can only be understood and changed together.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-unresolvable',
      comment: 'An import the cruiser cannot resolve would escape every other rule.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'http-only-kernel',
      comment: 'http/ imports contracts, domain, errors, config, the logger and itself: never a service, an adapter or an actor.',
      severity: 'error',
      from: { path: '^http/' },
      to: {
        path: PROJECT,
        pathNot: ['^http/', '^src/(contracts|domain|errors|config)/', '^src/(config|logger)\\.ts$'],
      },
    },
    {
      name: 'contracts-pure',
      comment: 'Contracts are message types: they import domain, errors and each other, never a service or an adapter.',
      severity: 'error',
      from: { path: '^src/contracts/' },
      to: { path: PROJECT, pathNot: '^src/(contracts|domain|errors)/' },
    },
    {
      name: 'domain-pure',
      comment: 'src/domain/ holds pure rules and types: it imports nothing outside itself.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: PROJECT, pathNot: '^src/domain/' },
    },
    {
      name: 'feature-through-public-module',
      comment: "A feature reaches another feature only through that feature's public module (its index.ts).",
      severity: 'error',
      from: { path: FEATURE },
      to: { path: FEATURE, pathNot: ['^src/$1/', `${FEATURE}index\\.ts$`] },
    },
    {
      name: 'src-not-outer-layers',
      comment: 'src/ never imports http/, actors/ or supervisors/; only the entry point, the composition root and CLIs do.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/(node|main)\\.ts$', '^src/cli/'] },
      to: { path: '^(http|actors|supervisors)/' },
    },
    {
      name: 'actors-not-outer-layers',
      comment: 'actors/ never imports http/ or supervisors/ (the tree imports actors, not the other way round).',
      severity: 'error',
      from: { path: '^actors/' },
      to: { path: '^(http|supervisors)/' },
    },
    {
      name: 'adapters-not-features',
      comment: 'An adapter speaks to an outside system for any feature: it never imports one.',
      severity: 'error',
      from: { path: '^src/adapters/' },
      to: { path: FEATURE },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    moduleSystems: ['es6', 'cjs'],
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    skipAnalysisNotInRules: true,
    // Resolve packages as Node does (their `exports` map), so no-unresolvable flags only real mistakes.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['main', 'types', 'typings'],
    },
  },
};
