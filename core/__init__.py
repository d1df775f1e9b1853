"""The bottom layer: the shared vocabulary every other layer may import (settings, wire contracts,
output schemas, errors, usage). It imports nothing of the worker's own above it."""
