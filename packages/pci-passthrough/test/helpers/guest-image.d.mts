/** A fresh temp folder for one test file's images. */
export function imageDir(label: string): string;
/** Builds c/test/<program>.c into an xen-pv image in dir (needs this package and minios-binding built); returns its path. */
export function buildPciTestImage(program: string, dir: string): string;
/** `case NAME: PASS|FAIL reason|SKIP reason` lines by case name. */
export function caseResults(lines: readonly string[]): Record<string, string>;
/** The cases of c/test/edu.c (without the bench), in the order it runs them. */
export const EDU_CASES: readonly string[];
