"""Local servers that stand in for the services the worker talks to, speaking their real wire protocols."""
