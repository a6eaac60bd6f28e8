"""Examples shipped with cleanpipe, so the configs in the README run as written."""
