/**
 * `node dist/generate.js [--check] <include-dir>`: writes every generated C header
 * (see `headerNames`) under <include-dir>. Each file is written to a temp file and renamed;
 * unchanged files are left alone so C builds do not rebuild needlessly.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { headerNames, renderHeader } from './render.js';

const USAGE = `usage: node dist/generate.js [--check] <include-dir>

Writes the C headers generated from @rumpxen/hypercall-api's interface data:
${headerNames.map((h) => `  <include-dir>/${h}`).join('\n')}

  --check   write nothing; exit 1 if any header is missing or out of date
  --help    show this text
`;

/** Writes every generated header under includeDir (temp file + rename; unchanged files untouched). */
export function writeHeaders(includeDir: string): { written: string[]; unchanged: string[] } {
  const written: string[] = [];
  const unchanged: string[] = [];
  for (const name of headerNames) {
    const path = join(includeDir, name);
    const text = renderHeader(name);
    let old: string | undefined;
    try {
      old = readFileSync(path, 'utf8');
    } catch {
      old = undefined;
    }
    if (old === text) {
      unchanged.push(path);
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, text);
    renameSync(tmp, path);
    written.push(path);
  }
  return { written, unchanged };
}

/** Headers under includeDir that are missing or differ from what renderHeader gives now. */
export function staleHeaders(includeDir: string): string[] {
  return headerNames.filter((name) => {
    try {
      return readFileSync(join(includeDir, name), 'utf8') !== renderHeader(name);
    } catch {
      return true;
    }
  });
}

/** The CLI; returns the exit code. */
export function main(argv: string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const check = argv.includes('--check');
  const rest = argv.filter((a) => a !== '--check');
  const unknown = rest.filter((a) => a.startsWith('-'));
  if (unknown.length > 0 || rest.length !== 1) {
    process.stderr.write(
      unknown.length > 0
        ? `generate: unknown option ${unknown.join(', ')}; only --check and --help exist.\n\n${USAGE}`
        : `generate: expected exactly one include directory, got ${rest.length}; pass the directory to write into, e.g. \`node dist/generate.js include\`.\n\n${USAGE}`,
    );
    return 2;
  }
  const dir = resolve(rest[0]!);
  if (check) {
    const bad = staleHeaders(dir);
    if (bad.length > 0) {
      process.stderr.write(`generate --check: out of date or missing in ${dir}: ${bad.join(', ')}; run \`node dist/generate.js ${rest[0]}\`.\n`);
      return 1;
    }
    return 0;
  }
  const { written } = writeHeaders(dir);
  if (written.length > 0) process.stderr.write(`generate: wrote ${written.length} header(s) under ${dir}\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
