"""The client: the fast getters, the observed pipeline, overrides, hooks, events."""
