"""User memory (Qdrant) and the offline embedding model."""
