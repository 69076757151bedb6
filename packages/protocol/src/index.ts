// The public face of @rumpxen/protocol: one export line per module (append yours).
export {};
