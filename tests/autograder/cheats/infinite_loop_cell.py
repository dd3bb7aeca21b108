# Never finish the cell.
while True:
    pass

def cross_correlate1d(x, w):
    return np.zeros(1)
