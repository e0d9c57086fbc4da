// Makes an app container wait for vineyardd's socket before its own command
// runs. The Vineyard operator rewrote the last command element whatever it
// was (corrupting `["python", "app.py"]`); here only a shell script is
// prefixed, any other command is wrapped, and no command is left alone.
import type { V1Container } from '@kubernetes/client-node';
import { stringList } from '../endpoints/pod/pod-helpers.js';

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash']);
/** `-c`, or combined short flags that include it (`-ec`, `-xc`). */
const isDashC = (flag: string | undefined) => typeof flag === 'string' && /^-[a-z]*c[a-z]*$/.test(flag);
const isShell = (exe: string | undefined) => typeof exe === 'string' && SHELLS.has(exe.slice(exe.lastIndexOf('/') + 1));

/** Single-quotes for sh when needed; socket paths are usually plain. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function socketWait(socket: string): string {
  return `while [ ! -e ${shellQuote(socket)} ]; do sleep 1; done;`;
}

export type Rewrite =
  { kind: 'command'; command: string[] } | { kind: 'args'; args: string[] } | { kind: 'none'; warning?: string };

/** How to change `container` so it waits for `socket`; pure. */
export function socketWaitRewrite(container: Readonly<V1Container>, socket: string): Rewrite {
  const wait = socketWait(socket);
  const name = container.name ?? '?';
  const command = stringList(container.command);
  const args = stringList(container.args);
  if (container.command !== undefined && container.command !== null && !command) {
    return {
      kind: 'none',
      warning: `container ${name}: command is not a list of strings; it was not made to wait for the Vineyard socket`,
    };
  }
  if (!command || command.length === 0) {
    return {
      kind: 'none',
      warning: `container ${name} has no command, so it cannot be made to wait for the Vineyard socket ${socket} and may start before vineyardd; set command (e.g. ["/bin/sh", "-c", "<your command>"]) or use the native sidecar mode (annotation sidecar.v6d.io/native: "true")`,
    };
  }
  if (isShell(command[0]) && isDashC(command[1])) {
    if (command.length >= 3) {
      const script = command[2]!;
      if (script.startsWith(wait)) return { kind: 'none' };
      return { kind: 'command', command: [command[0]!, command[1]!, wait + script, ...command.slice(3)] };
    }
    if (args && args.length >= 1) {
      if (args[0]!.startsWith(wait)) return { kind: 'none' };
      return { kind: 'args', args: [wait + args[0]!, ...args.slice(1)] };
    }
    return {
      kind: 'none',
      warning: `container ${name}: command ${JSON.stringify(command)} has no script after ${command[1]}; it was not made to wait for the Vineyard socket`,
    };
  }
  // Any other command: run it through sh after the wait. "$0" "$@" are the
  // original command and, as the kubelet appends them, the original args.
  // An already wrapped command is a shell -c script starting with the wait,
  // caught above, so wrapping is idempotent.
  return { kind: 'command', command: ['/bin/sh', '-c', `${wait}exec "$0" "$@"`, ...command] };
}
