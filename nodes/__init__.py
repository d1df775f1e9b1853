"""One async function per node: (state, runtime) -> partial state update. No I/O libraries here:
everything outside goes through the adapters in `runtime.context`."""
