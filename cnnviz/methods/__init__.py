"""The jobs: filters, fooling and class pictures, activations, attribution (cam), atlas, edges, kernels, training."""
