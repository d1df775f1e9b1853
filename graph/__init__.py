"""The Reppy Worker graph: one StateGraph, the state it carries and the runtime context it uses."""
