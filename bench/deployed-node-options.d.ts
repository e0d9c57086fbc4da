export function deployedNodeOptions(): string;
