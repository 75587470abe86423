"""Mixing: generated rows -> messages samples -> training files built from YAML recipes."""

from taxolab.mixing.mix import MixResult, mix_recipe
from taxolab.mixing.recipe import Recipe, load_recipe, write_recipe
from taxolab.mixing.training_sets import LeafSource, MixOptions, build_training_sets, seed_rows

__all__ = [
    "LeafSource",
    "MixOptions",
    "MixResult",
    "Recipe",
    "build_training_sets",
    "load_recipe",
    "mix_recipe",
    "seed_rows",
    "write_recipe",
]
