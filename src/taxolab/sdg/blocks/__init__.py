"""Blocks: the steps of a data generation pipeline."""

from taxolab.sdg.blocks.base import Block, BlockContext, BlockOutput, Row
from taxolab.sdg.blocks.registry import BLOCKS, build_block

__all__ = ["BLOCKS", "Block", "BlockContext", "BlockOutput", "Row", "build_block"]
