"""The deployable units of one environment; each only composes constructs."""
