"""The outside world behind small Protocols. Adapters never import graph/ or nodes/."""
