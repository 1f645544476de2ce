"""Sub-commands of `jdm-cds`; each module has ``register(subparsers)``."""
