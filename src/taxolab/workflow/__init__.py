"""The end-to-end loop (`taxolab run`): stages, their manifest, and skipping what is already done."""
