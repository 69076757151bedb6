export declare function runXenBench(opts?: { runs?: number; loop?: number }): Promise<string[]>;
export declare function leakCheck(run: {
  before: { domains: string[]; xlDomains: string[]; freePages: number; xlFreeMiB: number };
  after: { domains: string[]; xlDomains: string[]; freePages: number; xlFreeMiB: number };
}): { ok: boolean; text: string };
