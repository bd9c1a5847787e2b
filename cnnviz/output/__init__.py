"""Output: grid layout (numpy), PNG/JSON files written atomically, and the renderings of results."""
