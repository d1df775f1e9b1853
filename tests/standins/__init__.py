"""Local stand-ins for the services Reppy Worker talks to, speaking their real wire protocols on
127.0.0.1, so tests (and benchmarks) exercise the real client libraries without a network."""
