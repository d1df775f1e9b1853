"""The top layer: the composition root, the runner around the graph, a Function call's batch, the CLI.
Nothing below imports it."""
