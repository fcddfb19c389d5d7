"""facegate's face backend: the vision engine, the request logic and its internal HTTP service."""
