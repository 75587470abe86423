"""Mixing: generated rows -> messages samples -> training files built from YAML recipes."""

from taxolab.mixing.mix import MixResult, mix_recipe
from taxolab.mixing.recipe import Recipe, load_recipe, write_recipe

__all__ = ["MixResult", "Recipe", "load_recipe", "mix_recipe", "write_recipe"]
