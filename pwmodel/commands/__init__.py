"""Sub-commands of the pwmodel CLI: one module each, with register(subparsers)."""
