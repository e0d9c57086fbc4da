#!/usr/bin/env node
// Entry point. Only the Node.js version check runs here, written so that any
// Node runs it; everything else is imported after it, so an older Node is told
// what it needs instead of failing on the first newer API it meets.
const REQUIRED_MAJOR = 24;
const found = process.versions.node;

if (Number(found.split('.')[0]) < REQUIRED_MAJOR) {
  process.stderr.write(
    `vineyard-webhook: Node.js ${REQUIRED_MAJOR} or newer is required, found ${found} (${process.execPath}); install Node.js ${REQUIRED_MAJOR}, or run the container image\n`,
  );
  process.exitCode = 1;
} else {
  await import('./commands.js');
}

export {};
