// Types of pool.js for the TypeScript tests that import it.
export interface PhaseResult {
  id: number;
  sent: number;
  answered: number;
  inWindow: number;
  failed: number;
  errorCounts: Record<string, number>;
  problems: string[];
  elapsedMs: number;
  latency: Float64Array;
  service: Float64Array;
}
export class GeneratorPool {
  constructor(workers: number, connections: number, ca: string);
  scenario(s: unknown): Promise<void>;
  connect(port: number): Promise<void>;
  run(o: {
    mode: 'open' | 'closed';
    port: number;
    durationMs: number;
    rate?: number;
    ceiling?: boolean;
  }): Promise<PhaseResult[]>;
  close(): Promise<void>;
}
