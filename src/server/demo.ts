// The demo app moved to src/demo (its syncflow.config.ts); tests and benches still import it from here.
export * from '../demo/server.ts';
