"""Stand-ins for the servers the worker talks to, speaking their real wire protocols on 127.0.0.1."""
