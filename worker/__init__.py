"""Service shell of Reppy Worker: settings, wire contracts, output schemas, runner and CLI.

`settings`, `contracts`, `schemas` and `errors` are leaf modules (shared vocabulary every layer may
import); `runner` and `cli` sit on top of the graph.
"""
