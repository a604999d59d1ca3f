"""The delivery pipeline: one CodePipeline in the tooling account that builds the Moodle image and
promotes every change through dev, staging and prod."""
