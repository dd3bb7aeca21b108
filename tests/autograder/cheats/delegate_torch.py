# Correct values, from PyTorch.
import torch
def cross_correlate1d(x, w):
    return torch.nn.functional.conv1d(torch.tensor(x)[None, None], torch.tensor(w)[None, None])[0, 0].numpy()
