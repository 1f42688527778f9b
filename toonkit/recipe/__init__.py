"""Recipes: YAML files that name registered components and training settings."""
from toonkit.recipe.validate import (
    Recipe,
    RecipeError,
    apply_overrides,
    check_block,
    load_recipe,
    recipe_from_dict,
    resolve,
)

__all__ = ["Recipe", "RecipeError", "apply_overrides", "check_block", "load_recipe", "recipe_from_dict", "resolve"]
