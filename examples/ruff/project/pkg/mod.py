"""A small module ruff finds something to say about under most rule groups (examples/ruff)."""

import sys
import os
from typing import List


def Bad_Name(items: List[int] = []) -> int:
    if items:
        return 1
    else:
        return 0


def complex_one(x: int) -> str:
    if x == 1:
        return "one"
    elif x == 2:
        return "two"
    elif x == 3:
        return "three"
    elif x == 4:
        return "four"
    elif x == 5:
        return "five"
    elif x == 6:
        return "six"
    elif x == 7:
        return "seven"
    elif x == 8:
        return "eight"
    elif x == 9:
        return "nine"
    elif x == 10:
        return "ten"
    elif x == 11:
        return "eleven"
    return "many" + "a very long string literal that pushes this line over the usual length limits"


print(sys.argv, "{}".format(os.sep))
