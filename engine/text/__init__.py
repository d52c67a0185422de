"""Language tools for queries and names: Russian morphology (lemmas, name detection) and scripts."""
