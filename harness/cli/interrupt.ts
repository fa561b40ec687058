/**
 * Ctrl-C: the first SIGINT/SIGTERM aborts the shared signal, so every running command is
 * cancelled and every wait ends, and the command's own cleanup runs; a second one exits at once.
 */
let controller: AbortController | undefined;

export function interruptSignal(): AbortSignal {
  if (!controller) {
    const c = new AbortController();
    controller = c;
    let count = 0;
    const onSignal = (name: NodeJS.Signals) => {
      count += 1;
      if (count > 1) process.exit(130);
      process.stderr.write(`\nha-chaos: ${name}: stopping (cleanup runs; press again to exit at once)\n`);
      c.abort(new Error(`interrupted by ${name}`));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  return controller.signal;
}

export function wasInterrupted(): boolean {
  return controller?.signal.aborted ?? false;
}
