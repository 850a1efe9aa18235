// Runs the repository's import rules (.dependency-cruiser.cjs) over a tree through dependency-cruiser's API.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** The folders the rules govern; bench/ and test/ may import anything. */
export const SOURCE_ROOTS = ['src', 'actors', 'supervisors', 'http'];

export interface RuleViolation {
  rule: string;
  from: string;
  to: string;
  /** For a cycle: the modules it goes through after `from`, back to `from`. */
  cycle?: string[];
}

/** Cruises `roots` (relative to `baseDir`, resolved with `baseDir/tsconfig.json`) and returns every violation. */
export async function checkImportRules(baseDir: string, roots: string[] = SOURCE_ROOTS): Promise<RuleViolation[]> {
  const options = await extractDepcruiseOptions(join(REPO_ROOT, '.dependency-cruiser.cjs'));
  const tsConfigFile = join(baseDir, 'tsconfig.json');
  const { output } = await cruise(
    roots,
    { ...options, baseDir, tsConfig: { fileName: tsConfigFile }, outputType: 'json' },
    {},
    { tsConfig: extractTSConfig(tsConfigFile) },
  );
  const result = (typeof output === 'string' ? JSON.parse(output) : output) as ICruiseResult;
  return (result.summary.violations ?? []).map((v) => ({
    rule: v.rule.name,
    from: v.from,
    to: v.to,
    ...(v.cycle ? { cycle: v.cycle.map((step) => step.name) } : {}),
  }));
}

/** One line per violation: `rule: from → to`, or the whole loop for a cycle. */
export function describeViolation(v: RuleViolation): string {
  return `${v.rule}: ${[v.from, ...(v.cycle ?? [v.to])].join(' → ')}`;
}
