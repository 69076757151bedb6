export declare function runXenBench(opts?: { runs?: number; loop?: number }): Promise<string[]>;
