"""Where token and result events go: OCI Streaming / OCI Queue in production, JSON lines locally."""
