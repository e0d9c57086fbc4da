// Reads a Dockerfile and a .dockerignore the way BuildKit does, for the
// subset this project uses: no Docker engine runs here, so the image is
// checked from its recipe.

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}
export interface Stage {
  name?: string;
  image: string;
  instructions: Instruction[];
}

/** Instructions, with comments dropped and `\` continuations joined. */
export function parseInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) return;
    if (pending && line.startsWith('#')) return; // comments inside a continuation
    if (!pending) start = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^(\S+)\s*(.*)$/s.exec(full)!;
    out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!, line: start });
  });
  return out;
}

/** Stages in order; `${ARG}` in FROM resolved from the global ARG defaults. */
export function parseStages(text: string): Stage[] {
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of parseInstructions(text)) {
    if (ins.keyword === 'ARG' && !stages.length) {
      const [k, v] = ins.args.split('=');
      if (v !== undefined) args[k!.trim()] = v.trim();
    } else if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args.trim());
      if (!m) throw new Error(`line ${ins.line}: cannot read FROM ${ins.args}`);
      const image = m[1]!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => {
        const v = args[(a ?? b)!];
        if (v === undefined) throw new Error(`line ${ins.line}: ARG ${a ?? b} has no default`);
        return v;
      });
      stages.push({ ...(m[2] ? { name: m[2] } : {}), image, instructions: [] });
    } else if (stages.length) {
      stages.at(-1)!.instructions.push(ins);
    }
  }
  return stages;
}

export interface ImageRef {
  repository: string;
  tag?: string;
  digest?: string;
}

export function parseImageRef(ref: string): ImageRef {
  const [nameTag, digest] = ref.split('@');
  const slash = nameTag!.lastIndexOf('/');
  const colon = nameTag!.lastIndexOf(':');
  const hasTag = colon > slash;
  return {
    repository: hasTag ? nameTag!.slice(0, colon) : nameTag!,
    ...(hasTag ? { tag: nameTag!.slice(colon + 1) } : {}),
    ...(digest ? { digest } : {}),
  };
}

/** An exec-form (JSON array) argument list, or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  try {
    const v: unknown = JSON.parse(args);
    return Array.isArray(v) && v.every(x => typeof x === 'string') ? v : undefined;
  } catch {
    return undefined;
  }
}

/** COPY's flags, sources and destination. */
export function parseCopy(args: string): { from?: string; sources: string[]; dest: string } {
  const words = args.trim().split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift()!;
    if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
  }
  const dest = words.pop()!;
  return { ...(from ? { from } : {}), sources: words, dest };
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
      if (pattern[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Whether a context path is left out of the build by .dockerignore: patterns
 * apply in order, the last one matching the path or one of its parent
 * directories wins, `!` re-includes.
 */
export function dockerignored(dockerignore: string, path: string): boolean {
  const rules = dockerignore
    .split('\n')
    .map(l => l.trim())
    .filter(l => l && !l.startsWith('#'))
    .map(l => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).trim().replace(/^\/+/, '').replace(/\/+$/, '');
      return { negate, re: globToRegExp(pattern) };
    });
  const parts = path.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let excluded = false;
  for (const r of rules) if (prefixes.some(p => r.re.test(p))) excluded = !r.negate;
  return excluded;
}
