"""The reliability and security suite (issue 9): `python -m pytest -m reliability`."""
