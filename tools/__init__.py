"""Developer tools: synthesis summary and benchmark."""
