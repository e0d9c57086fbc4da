// The jobs a pod depends on: annotation scheduling.k8s.v6d.io/required, comma
// separated; missing, empty or `none` means no job.
import { REQUIRED_ANNOTATION, REQUIRED_NONE } from './names.js';

export function requiredJobs(annotations: Readonly<Record<string, string>>): string[] {
  const raw = annotations[REQUIRED_ANNOTATION] ?? '';
  const jobs = raw
    .split(',')
    .map(s => s.trim())
    .filter(s => s && s.toLowerCase() !== REQUIRED_NONE);
  return [...new Set(jobs)];
}
