"""Evaluation: did the trained model learn the new knowledge and skills, and did it forget anything?

Entry points: :func:`taxolab.evaluation.api.evaluate` (what ``taxolab model
evaluate`` runs) and :func:`taxolab.evaluation.selection.dev_selector`
(training's checkpoint chooser, on the dev split only). Benchmarks are imported lazily, so
importing this package costs nothing.
"""
