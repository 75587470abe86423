"""Evaluation: did the trained model learn the new knowledge and skills, and did it forget anything?

Entry points: :func:`taxolab.evaluation.api.evaluate` (what ``taxolab model
evaluate`` runs) and :func:`taxolab.evaluation.mmlu_branch.make_selector`
(training's best-checkpoint chooser). Benchmarks are imported lazily, so
importing this package costs nothing.
"""
