"""The matching engine: standardise, block, compare, score and explain. No Django here."""
