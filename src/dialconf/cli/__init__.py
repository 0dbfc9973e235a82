"""The `dialconf` command line: one module per noun, all calling the service functions."""
