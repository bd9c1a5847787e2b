"""Inputs: images from files, datasets, model input preprocessing and class labels."""
