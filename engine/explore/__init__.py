"""Looking at a library from a notebook: an embedding map, search quality on labelled queries, previews."""
