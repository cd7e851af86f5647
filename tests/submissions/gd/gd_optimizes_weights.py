# Student gd.py: Adam over model.parameters() -- it trains the network toward the label instead of
# changing the picture.
import torch


def gradient_descent(input, model, loss, iterations=20):
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for i in range(iterations):
        optimizer.zero_grad()
        value = -loss(model(input))
        value.backward()
        optimizer.step()
    return input
